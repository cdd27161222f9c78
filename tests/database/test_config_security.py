"""The rds and db tables, environments without replicas, and secrets that never show."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.conftest import VerifyRun
from tests.database.conftest import LOCAL, MONITOR
from verify.config import ConfigError, load
from verify.registry import discover
from verify.sandbox import spec

REPO = Path(__file__).parents[2]


def test_the_shipped_environments_configure_the_database_everywhere() -> None:
    registry = discover()
    for name in ("dev", "staging", "prod", "local"):
        env = load(REPO / "environments.toml", name, registry)
        assert env.configures("rds") and env.configures("db"), name
    prod = load(REPO / "environments.toml", "prod", registry)
    assert prod.table("db").replicas["mobilytics-prod-reporting"].lag == "cloudwatch"
    assert load(REPO / "environments.toml", "dev", registry).table("db").replicas == {}


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        (
            '[environments.prod.db]\nurl = "postgresql://verify_monitor:pw@db:5432/app"\n',
            "literal secrets are refused",
        ),
        ('[environments.prod.rds]\ninstance = "2fast"\n', "is not an RDS DB instance identifier"),
        (
            '[environments.prod.rds]\ninstance = "db"\nreplicas = ["db"]\n',
            "both the instance and one of its replicas",
        ),
        ('[environments.prod.db]\nurl = "env:X"\nlag_window_s = 5\n', "db.lag_window_s"),
        (
            '[environments.prod.db]\nurl = "env:X"\nmigrations_table = "a;drop"\n',
            "not a plain SQL identifier",
        ),
        (
            '[environments.prod.db]\nurl = "env:X"\nreplicas = { r1 = { url = "env:Y", lag = "metric" } }\n',
            "lag",
        ),
        ('[environments.prod.db]\nurl = "env:X"\nreplica_url = "env:Y"\n', "unknown key"),
    ],
)
def test_a_bad_database_table_is_one_line_naming_the_key(
    tmp_path: Path, table: str, problem: str
) -> None:
    path = tmp_path / "environments.toml"
    path.write_text('[environments.prod]\naws = { region = "eu-west-1" }\n' + table)
    with pytest.raises(ConfigError) as raised:
        load(path, "prod", discover())
    message = str(raised.value)
    assert problem in message and "\n" not in message and "pw@" not in message


def test_no_replica_configured_skips_the_replica_checks_with_a_reason(
    db_env: Callable[..., VerifyRun],
) -> None:
    run = db_env(
        '[environments.local.rds]\ninstance = "mobilytics-local"\n\n'
        f'[environments.local.db]\nurl = "{MONITOR}#primary"\n'
    )
    assert run.outcome == "pass", run.output
    skipped = {c for c in run.ids("skipped") if c.startswith(("db.", "rds."))}
    assert skipped == {"rds.replicas_attached", "db.replication_lag", "db.replica_readable"}
    assert run.check("db.replication_lag")["message"] == "db.replicas lists no replica"
    assert run.check("rds.replicas_attached")["message"] == "rds.replicas lists no read replica"
    assert {"db.connect", "db.migrations", "rds.available", "rds.pitr_fresh"} <= run.ids("passed")


def test_no_database_secret_reaches_any_output(
    run_verify: Callable[..., VerifyRun], sandbox_state: Any, sandbox_secrets: dict[str, str]
) -> None:
    run = run_verify("--env=local", "-m", "smoke or deep", f"--release={sandbox_state.release}")
    assert run.ids("error") == set(), run.output
    monitor = json.loads(sandbox_secrets[spec.DATABASE_MONITOR_SECRET])
    urls = [sandbox_secrets[spec.DATABASE_URL_SECRET], *monitor.values()]
    written = run.output + "".join(p.read_text() for p in run.reports.glob("*.*") if p.is_file())
    for url in urls:
        password = urlsplit(url).password
        assert password and password not in written
        assert url not in written


def test_a_wrong_monitoring_password_is_error_not_fail_and_never_shown(
    db_env: Callable[..., VerifyRun], sandbox_state: Any, tmp_path: Path, sandbox_dir: Path
) -> None:
    from tests.conftest import run_with_environments

    port = urlsplit(sandbox_state.endpoints["postgres"]).port
    wrong = "wr0ng-Passw0rd-for-verify"
    body = LOCAL.format(thresholds="db_timeout_s = 5") + (
        '[environments.local.db]\nurl = "env:DB_MONITOR_URL_UNDER_TEST"\n'
    )
    run = run_with_environments(
        tmp_path,
        body,
        env={
            "VERIFY_SANDBOX_DIR": str(sandbox_dir),
            "DB_MONITOR_URL_UNDER_TEST": f"postgresql://verify_monitor:{wrong}@127.0.0.1:{port}/mobilytics",
        },
    )
    assert run.outcome == "error", run.output
    connect = run.check("db.connect")
    assert connect["status"] == "error"
    assert 'password authentication failed for user "verify_monitor"' in connect["message"]
    assert wrong not in run.output and wrong not in (run.reports / "verdict.json").read_text()


def test_verify_sessions_are_read_only_and_named(
    sandbox_state: Any, sandbox_secrets: dict[str, str]
) -> None:
    from tests.database.conftest import sandbox_sql
    from verify.probes.postgres import connect

    url = json.loads(sandbox_secrets[spec.DATABASE_MONITOR_SECRET])["primary"]
    session = connect("primary", url, timeout_s=5, statement_timeout_s=5)
    try:
        assert session.conn is not None
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            session.conn.execute("CREATE TABLE verify_must_not_write (x int)")
        (named,) = sandbox_sql(
            sandbox_state,
            "primary",
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE application_name = 'verify' AND usename = 'verify_monitor'",
        )
        assert named == 1
    finally:
        session.close()
