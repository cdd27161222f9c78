"""Every database fault turns the verdict FAIL on the check that guards against it; heal -> PASS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import VerifyRun
from tests.database.conftest import DB_CHECKS, LAG
from verify.sandbox import heal
from verify.sandbox.parts.postgres import FAULTS

# fault -> a fragment of its check's message (observed vs expected)
CAUGHT_BY = {
    "db-down": ": connection refused; expected a session",
    "db-auth-wrong": "answered HTTP 503; expected 200",
    "replica-lag": "MiB behind the primary (WAL replay paused on the replica); "
    "expected <= 1.0 MiB (replica_lag_bytes)",
    "replica-detached": "read replication error (Replication for the Read Replica has stopped",
    "pitr-stale": "s ago; expected <= 900 s (pitr_max_age_s)",
    "backups-disabled": "keeps automated backups 0 d; expected >= 7 d (backup_retention_min_days)",
    "not-multi-az": "is single-AZ (MultiAZ false); expected Multi-AZ",
    "db-unencrypted": "not encrypted on mobilytics-local (StorageEncrypted false); expected encrypted",
    "migration-failed": "20261126080000_add_trip_segment_index (ERROR: could not create unique index",
    "migration-missing": "migration 20261118163000_add_trip_segments is not applied (latest applied: "
    "20261021090000_add_trips); expected it applied (expected_migration)",
}
BY_NAME = {fault.name: fault for fault in FAULTS}


def test_every_database_fault_is_covered_here() -> None:
    assert set(CAUGHT_BY) == set(BY_NAME)
    for fault in FAULTS:
        assert fault.expect == "fail"
        assert {fault.check, *fault.also} <= DB_CHECKS | {"api.health"}


# Time budgets a machine loaded by other work can trip: not what a fault test is about.
BUDGETS = {"api.health": "(api_latency_ms)", "db.connect": "(db_connect_ms)"}


def failed_checks(run: VerifyRun) -> set[str]:
    """Failed checks, not counting a latency budget tripped by a loaded machine."""
    failed = run.ids("failed")
    for check, budget in BUDGETS.items():
        if check in failed and budget in run.check(check)["message"]:
            failed.discard(check)
    return failed


@pytest.mark.parametrize("name", sorted(CAUGHT_BY))
def test_fault_fails_its_check_with_observed_vs_expected_then_heals(
    name: str, broken: Callable[[str], None], full_run: Callable[[], VerifyRun], sandbox_dir: Any
) -> None:
    fault = BY_NAME[name]
    broken(name)
    run = full_run()
    assert run.outcome == "fail" and run.exit_code == 1, run.output
    assert failed_checks(run) == {fault.check, *fault.also}, run.output
    assert run.ids("error") == set(), run.output
    failed = run.check(fault.check)
    assert CAUGHT_BY[name] in failed["message"], failed["message"]
    assert "expected" in failed["message"] and "\n" not in failed["message"]
    assert failed["observed"] and failed["threshold"], failed

    heal(sandbox_dir, name)
    healed = full_run()
    assert failed_checks(healed) == set(), healed.output
    assert healed.ids("error") == set(), healed.output
    assert healed.ids("passed") >= DB_CHECKS, healed.output


def test_db_down_fails_closed_everywhere_it_is_read(
    broken: Callable[[str], None], full_run: Callable[[], VerifyRun]
) -> None:
    """The primary refusing connections is an observation on every check that reads it."""
    broken("db-down")
    run = full_run()
    for check in ("db.connect", "db.migrations", LAG):
        assert "refused connections" in run.check(check)["message"] or (
            "connection refused" in run.check(check)["message"]
        )
    assert run.check("rds.available")["message"].startswith("mobilytics-local is stopped")
    assert run.check("db.replica_readable")["status"] == "passed"  # the replica still serves reads


def test_every_database_fault_at_once_then_heal_all(
    broken: Callable[[str], None], full_run: Callable[[], VerifyRun], sandbox_dir: Any
) -> None:
    """Faults combine in any order (a SQL fault while the primary is down, a paused replay on a
    replica that restarts) and heal back to the healthy state."""
    from verify.sandbox import active

    for name in sorted(BY_NAME):
        broken(name)
    assert set(active(sandbox_dir)["postgres"]) == set(BY_NAME)
    heal(sandbox_dir)
    assert active(sandbox_dir)["postgres"] == []
    run = full_run()
    assert failed_checks(run) == set() and run.ids("error") == set(), run.output
