"""Database checks over SQL: the primary answers, replicas keep up and serve reads, migrations ran."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from verify.text import plural

if TYPE_CHECKING:
    from verify.config import EnvConfig
    from verify.fixtures.core import CheckRecord
    from verify.probes.migrations import MigrationsObservation
    from verify.probes.postgres import PrimaryObservation, ReplicaObservation
    from verify.probes.replication import ReplicaLag

pytestmark = [pytest.mark.smoke, pytest.mark.synthetic]


def size(count: float) -> str:
    """Bytes for people: 5.1 MiB, 640 KiB, 120 B."""
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if abs(count) >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count:.0f} B"


def test_connect(
    db_primary: PrimaryObservation, verify_thresholds: Any, verify_check: CheckRecord
) -> None:
    """The primary accepts a read-only session and answers SELECT 1 within `db_connect_ms`."""
    obs, budget = db_primary, verify_thresholds.db_connect_ms
    total = obs.connect_ms + obs.query_ms
    verify_check.record(
        observed={
            "connect_ms": round(obs.connect_ms, 1),
            "select_1_ms": round(obs.query_ms, 1),
            "in_recovery": obs.in_recovery,
            "server_version": obs.version,
        },
        threshold={"db_connect_ms": budget, "in_recovery": False},
        evidence=[f"primary {obs.target}: {obs.unreachable or 'session open'}"],
    )
    assert obs.unreachable is None, f"primary {obs.target}: {obs.unreachable}; expected a session"
    assert not obs.in_recovery, (
        f"primary {obs.target} is in recovery (a read-only replica); expected the writer"
    )
    assert total <= budget, (
        f"primary {obs.target}: connect + SELECT 1 took {total:.0f} ms; "
        f"expected <= {budget:.0f} ms (db_connect_ms)"
    )


def test_replication_lag(
    db_replica_lag: ReplicaLag, verify_thresholds: Any, verify_check: CheckRecord
) -> None:
    """Streaming, and behind by at most `replica_lag_bytes` and `replica_lag_s` — counting only
    WAL still to replay, so an idle primary (an old last commit) is no lag."""
    lag = db_replica_lag
    max_bytes, max_s = verify_thresholds.replica_lag_bytes, verify_thresholds.replica_lag_s
    verify_check.record(
        observed={
            "source": lag.source,
            "state": lag.state,
            "lag_bytes": lag.lag_bytes,
            "lag_s": lag.lag_s,
            "replay_paused": lag.replay_paused,
            "last_replayed_commit_age_s": lag.replica_clock_s,
        },
        threshold={"replica_lag_bytes": max_bytes, "replica_lag_s": max_s, "state": "streaming"},
        evidence=list(lag.evidence),
        note="last_replayed_commit_age_s is not lag: it grows on an idle primary with nothing behind",
    )
    paused = " (WAL replay paused on the replica)" if lag.replay_paused else ""
    assert lag.problem is None, f"replica {lag.replica}: {lag.problem}; expected streaming"
    if lag.source == "primary":
        assert lag.lag_bytes is not None, (
            f"replica {lag.replica}: the primary reports no replay position; expected streaming"
        )
    if lag.lag_bytes is not None:
        assert lag.lag_bytes <= max_bytes, (
            f"replica {lag.replica}: {size(lag.lag_bytes)} behind the primary{paused}; "
            f"expected <= {size(max_bytes)} (replica_lag_bytes)"
        )
    assert lag.lag_s is not None and lag.lag_s <= max_s, (
        f"replica {lag.replica}: {lag.lag_s:.1f} s behind ({lag.source}){paused}; "
        f"expected <= {max_s:g} s (replica_lag_s)"
    )


def test_replica_readable(
    db_replicas: dict[str, ReplicaObservation], verify_env: EnvConfig, verify_check: CheckRecord
) -> None:
    """Every replica accepts a read-only session, is in recovery, and serves a real read."""
    table = verify_env.table("db")
    where = f"{table.migrations_schema}.{table.migrations_table}"
    verify_check.record(
        observed={
            name: {
                "refused": obs.unreachable,
                "in_recovery": obs.in_recovery,
                "wal_receiver": obs.receiver,
                "read_error": obs.read_error,
            }
            for name, obs in db_replicas.items()
        },
        threshold={"in_recovery": True, "read": f"SELECT from {where}"},
        evidence=[
            f"{name} {obs.target}: connect {obs.connect_ms:.0f} ms, receiver {obs.receiver}, "
            f"pending replay {obs.pending_bytes} bytes, paused {obs.paused}"
            for name, obs in db_replicas.items()
        ],
    )
    problems = []
    for name, obs in db_replicas.items():
        if obs.unreachable:
            problems.append(f"{name} ({obs.target}) refused connections: {obs.unreachable}")
        elif not obs.in_recovery:
            problems.append(
                f"{name} ({obs.target}) is not in recovery (promoted, or not a replica)"
            )
        elif obs.read_error:
            problems.append(f"{name} cannot read {where}: {obs.read_error}")
    assert not problems, (
        "; ".join(problems)
        + f"; expected {plural(len(db_replicas), 'replica')} in recovery and readable"
    )


def test_migrations(
    db_migrations: MigrationsObservation, verify_env: EnvConfig, verify_check: CheckRecord
) -> None:
    """No migration failed or left unfinished; the release's expected migration is applied."""
    from verify.components.db import expected_migration

    obs = db_migrations
    expected = expected_migration(verify_env.table("db"))
    verify_check.record(
        observed={
            "latest_applied": obs.latest,
            "applied": len(obs.applied),
            "failed": dict(obs.failed),
            "unfinished": list(obs.unfinished),
            "rolled_back": list(obs.rolled_back),
        },
        threshold={"failed": {}, "unfinished": [], "expected_migration": expected},
        evidence=[f"failed {name}: {error}" for name, error in obs.failed]
        + [f"rolled back earlier (resolved): {name}" for name in obs.rolled_back],
    )
    assert obs.unreachable is None, (
        f"primary {obs.target}: {obs.unreachable}; expected to read {obs.table}"
    )
    assert obs.exists, f"{obs.target} has no table {obs.table}; expected Prisma's migrations table"
    assert not obs.failed, (
        f"{plural(len(obs.failed), 'migration')} failed: "
        + "; ".join(f"{name} ({error})" for name, error in obs.failed)
        + "; expected none failed"
    )
    assert not obs.unfinished, (
        f"{plural(len(obs.unfinished), 'migration')} started, never finished: "
        + ", ".join(obs.unfinished)
        + "; expected none unfinished"
    )
    if expected is not None:
        assert expected in obs.applied, (
            f"migration {expected} is not applied (latest applied: {obs.latest}); "
            "expected it applied (expected_migration)"
        )
