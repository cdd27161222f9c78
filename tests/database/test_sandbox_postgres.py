"""The sandbox's PostgreSQL part: real servers, unprivileged, private, stopped by pid."""

from __future__ import annotations

import json
import os
import pwd
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.database.conftest import REPLICA, sandbox_sql
from verify.sandbox import pg_cluster, pg_seed, spec
from verify.sandbox.part import PartContext
from verify.sandbox.parts.postgres import Cluster, PostgresPart


def owner_of(pid: int) -> str:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    uid = int(next(line for line in status if line.startswith("Uid:")).split()[1])
    return pwd.getpwuid(uid).pw_name


def test_primary_and_streaming_replica_run_unprivileged(
    sandbox_dir: Path, sandbox_state: Any
) -> None:
    from verify.sandbox import load_state

    current = load_state(sandbox_dir)  # fresh: a healed fault restarts servers (new pids)
    assert current is not None
    part = current.parts["postgres"]
    cluster = Cluster(part)
    expected = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    for node in ("primary", "replica"):
        pid = part.data["processes"][node]
        assert cluster.up(node)
        assert owner_of(pid) == expected
        assert cluster.dir(node).owner() == expected
    assert sandbox_sql(sandbox_state, "replica", "SELECT pg_is_in_recovery()") == (True,)
    state, slot = sandbox_sql(
        sandbox_state,
        "primary",
        "SELECT r.state, s.slot_name FROM pg_stat_replication r "
        "JOIN pg_replication_slots s ON s.active_pid = r.pid",
    )
    assert (state, slot) == ("streaming", REPLICA.replace("-", "_"))
    assert sandbox_sql(sandbox_state, "primary", "SHOW fsync") == ("off",)


def test_urls_live_in_secrets_manager_only(sandbox_state: Any, sandbox_aws: Any) -> None:
    secretsmanager = sandbox_aws("secretsmanager")
    monitor = json.loads(
        secretsmanager.get_secret_value(SecretId=spec.DATABASE_MONITOR_SECRET)["SecretString"]
    )
    app = secretsmanager.get_secret_value(SecretId=spec.DATABASE_URL_SECRET)["SecretString"]
    assert set(monitor) == {"primary", REPLICA}
    assert urlsplit(monitor["primary"]).username == pg_seed.MONITOR_ROLE
    assert urlsplit(app).username == pg_seed.APP_ROLE and app.endswith("?schema=public")
    environments = (Path(__file__).parents[2] / "environments.toml").read_text()
    for url in (app, *monitor.values()):
        password = urlsplit(url).password
        assert password and password not in environments
        assert urlsplit(url).hostname == "127.0.0.1" and urlsplit(url).port != 5432


def test_only_loopback_and_no_superuser_over_tcp(sandbox_state: Any) -> None:
    assert sandbox_sql(sandbox_state, "primary", "SHOW listen_addresses") == ("127.0.0.1",)
    port = Cluster(sandbox_state.parts["postgres"]).port("primary")
    superuser = sandbox_state.parts["postgres"].data["superuser"]
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(
            host="127.0.0.1", port=port, user=superuser, dbname="postgres", connect_timeout=5
        )


def test_the_monitoring_role_has_pg_monitor_and_one_grant(sandbox_state: Any) -> None:
    role = pg_seed.MONITOR_ROLE
    with Cluster(sandbox_state.parts["postgres"]).admin(dbname=pg_seed.DATABASE) as conn:
        member_of = [r[0] for r in conn.execute(
            "SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid "
            "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = %s", (role,)
        )]  # fmt: skip
        flags = conn.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls "
            "FROM pg_roles WHERE rolname = %s",
            (role,),
        ).fetchone()
        grants = conn.execute(
            "SELECT table_name, privilege_type FROM information_schema.role_table_grants "
            "WHERE grantee = %s",
            (role,),
        ).fetchall()
    assert member_of == ["pg_monitor"]
    assert flags == (False, False, False, False, False)
    assert grants == [("_prisma_migrations", "SELECT")]


def test_the_readme_gives_the_sql_the_sandbox_runs() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for statement in pg_seed.LEAST_PRIVILEGE_SQL:
        assert statement in readme, statement


def test_a_standalone_part_starts_and_stops_everything_by_pid(tmp_path: Path) -> None:
    ctx = PartContext(
        dir=tmp_path, release="r", previous_release="p", token="t", latency_ms=0,
        secrets={}, endpoints={}, parts={}, progress=lambda line: None,
    )  # fmt: skip
    part = PostgresPart()
    state = part.start(ctx)
    cluster = Cluster(state)
    pids = dict(state.data["processes"])
    root = cluster.root
    try:
        assert part.health(ctx, state) is None
        assert state.data["start_s"] > 0
        assert root.is_dir() and oct(root.stat().st_mode & 0o777) == "0o700"
    finally:
        part.stop(state)
    for node, pid in pids.items():
        assert not pg_cluster.alive(pid, cluster.dir(node))
    assert not root.exists()


def test_a_sandbox_that_fails_to_start_leaves_no_server_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL's servers are not in `pids`: a failed `up` stops them through the part."""
    from verify.sandbox import SandboxError, lifecycle
    from verify.sandbox.parts import PARTS

    started: list[tuple[Any, dict[str, int]]] = []
    real_start = PARTS["postgres"].start

    def start(ctx: PartContext) -> Any:
        state = real_start(ctx)
        started.append((state, dict(state.data["processes"])))
        return state

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise SandboxError("AWS extension refused (test)")

    monkeypatch.setattr(PARTS["postgres"], "start", start)
    monkeypatch.setattr(lifecycle, "load_extension", refuse)
    with pytest.raises(SandboxError, match="refused"):
        lifecycle.up(tmp_path / "sandbox", parts=["postgres"], progress=lambda line: None)
    ((state, pids),) = started
    cluster = Cluster(state)
    assert set(pids) == {"primary", "replica"}
    for node, pid in pids.items():
        assert not pg_cluster.alive(pid, cluster.dir(node))
    assert not cluster.root.exists()
