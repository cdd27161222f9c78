"""What the database tests share: a full local run, the sandbox's own SQL access, polling."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import NO_BROWSER_NO_QUEUES, VerifyRun, run_with_environments
from verify.sandbox import spec

REPLICA = spec.RDS_REPLICA
LAG = f"db.replication_lag[{REPLICA}]"
DB_CHECKS = {
    "rds.available",
    "rds.replicas_attached",
    "rds.pitr_fresh",
    "rds.backup_retention",
    "rds.multi_az",
    "rds.encrypted",
    "db.connect",
    LAG,
    "db.replica_readable",
    "db.migrations",
}
MONITOR = f"secretsmanager:{spec.DATABASE_MONITOR_SECRET}"
# The local environment's AWS side, for environments files a test writes itself (a loaded
# machine must not trip the connect budget of a test about something else).
LOCAL = """
[environments.local]
sandbox = true
aws = {{ region = "eu-west-1", endpoint_url = "sandbox:aws", account_id = "123456789012" }}
thresholds = {{ db_connect_ms = 10000, {thresholds} }}
"""


@pytest.fixture
def full_run(run_verify: Callable[..., VerifyRun], sandbox_state: Any) -> Callable[[], VerifyRun]:
    """`pytest --env=local -m "smoke or deep"` with the sandbox's release: every AWS and SQL check
    (the frontends' and queues' have their own fault tests; a browser run costs ~10 s)."""
    return lambda: run_verify(
        "--env=local",
        "-m",
        "smoke or deep",
        *NO_BROWSER_NO_QUEUES,
        f"--release={sandbox_state.release}",
    )


@pytest.fixture
def db_env(tmp_path: Path, sandbox_dir: Path) -> Callable[..., VerifyRun]:
    """A smoke run with a database-only environments file (`tables` after the local header)."""

    def run(tables: str, thresholds: str = "replica_lag_bytes = 1048576") -> VerifyRun:
        body = LOCAL.format(thresholds=thresholds) + tables
        return run_with_environments(tmp_path, body, env={"VERIFY_SANDBOX_DIR": str(sandbox_dir)})

    return run


def sandbox_sql(state: Any, node: str, sql: str) -> tuple[Any, ...]:
    """One row of `sql` on the sandbox's `node` (primary | replica), as its superuser."""
    from verify.sandbox.parts.postgres import Cluster

    with Cluster(state.parts["postgres"]).admin(node) as conn:
        row = conn.execute(sql).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return tuple(row)


def wait_for(what: str, condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    """Poll `condition` until it holds (a bounded wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {timeout_s:.0f} s")
        time.sleep(0.2)
