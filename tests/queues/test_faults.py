"""Every fault of the redis part turns its check FAIL, with observed vs expected; heal restores
PASS. Every normal state of the part passes every check."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import VerifyRun
from tests.queues.conftest import CHECKS

API = str(CHECKS / "test_api.py")
# fault -> (the check that must catch it, a fragment of its message, checks that truthfully fail too)
CAUGHT_BY: dict[str, tuple[str, str, set[str]]] = {
    "queue-backlog": (
        "queues.lag[emails]",
        "expected <= 120 s (queue_oldest_wait_s)",
        {"queues.backlog[emails]"},
    ),
    "queue-paused": ("queues.not_paused[imports]", "queue imports is paused (meta.paused", set()),
    "queue-no-workers": (
        "queues.workers_present[notifications]",
        "0 workers connected (via CLIENT LIST); expected >= 1 (queue_min_workers)",
        {"queues.canary"},
    ),
    "queue-stalled": ("queues.stalled[imports]", "active job without a lock", set()),
    "queue-failed-spike": (
        "queues.failed_rate[imports]",
        "failed in the last 300 s",
        set(),
    ),
    "queue-delayed-overdue": (
        "queues.no_overdue_delayed[mirror-refresh]",
        "5 delayed jobs due for over 60 s",
        set(),
    ),
    "redis-down": ("redis.reachable", "connection refused", {"api.health"}),
    "redis-auth-wrong": ("redis.reachable", "as app-api: AUTH refused", {"api.health"}),
    "redis-memory-high": ("redis.memory", "expected <= 80% (redis_memory_max_ratio)", set()),
}
NORMAL = ("queue-delayed-future", "queue-idle", "queue-history", "worker-restarting")
# Redis itself gone or refusing us: the queue checks cannot observe (ERROR); the verdict is FAIL.
CANNOT_OBSERVE = {"redis-down", "redis-auth-wrong"}


def test_every_redis_fault_is_covered_here() -> None:
    from verify.sandbox.parts.redis import RedisPart

    declared = {f.name: (f.check, set(f.also)) for f in RedisPart.faults if f.expect == "fail"}
    assert declared == {name: (check, also) for name, (check, _, also) in CAUGHT_BY.items()}
    assert {f.name for f in RedisPart.faults if f.expect == "pass"} == set(NORMAL)


@pytest.mark.parametrize("fault", sorted(CAUGHT_BY))
def test_fault_fails_its_check_and_heal_restores_pass(
    fault: str,
    broken: Callable[[str], None],
    queue_run: Callable[..., VerifyRun],
    sandbox_dir: Path,
    sandbox_secrets: dict[str, str],
) -> None:
    from verify import sandbox

    check_id, fragment, also = CAUGHT_BY[fault]
    extra = (API,) if "api.health" in also else ()
    broken(fault)
    assert fault in sandbox.active(sandbox_dir)["redis"]
    run = queue_run(*extra)
    assert run.outcome == "fail", run.output
    assert run.exit_code == 1
    assert run.ids("failed") == {check_id} | also, run.output
    failed = run.check(check_id)
    assert fragment in failed["message"], failed["message"]
    assert "expected" in failed["message"]
    assert failed["observed"] is not None and failed["threshold"] is not None
    if fault in CANNOT_OBSERVE:
        errors = run.ids("error")
        assert errors and all(e.startswith(("queues.", "redis.memory")) for e in errors), errors
        for check in errors:
            message = run.check(check)["message"]
            assert "\n" not in message and ("refused" in message), message
        assert "Traceback" not in run.output
    else:
        assert run.ids("error") == set(), run.output
    for value in sandbox_secrets.values():
        assert value not in run.output
        assert value not in (run.reports / "verdict.json").read_text()

    sandbox.heal(sandbox_dir, fault)
    healed = queue_run(*extra)
    assert healed.outcome == "pass", healed.output
    assert healed.exit_code == 0


@pytest.mark.parametrize("state", NORMAL)
def test_normal_state_passes_every_check(
    state: str,
    broken: Callable[[str], None],
    queue_run: Callable[..., VerifyRun],
    sandbox_dir: Path,
) -> None:
    from verify import sandbox

    broken(state)
    assert state in sandbox.active(sandbox_dir)["redis"]
    run = queue_run()
    assert run.outcome == "pass", run.output
    assert run.ids("failed") == set() and run.ids("error") == set()
    assert "queues.canary" in run.ids("passed")


def test_normal_states_show_in_the_observations(
    broken: Callable[[str], None], queue_run: Callable[..., VerifyRun]
) -> None:
    """The normal states are really there when the checks pass (not vacuous passes)."""
    broken("queue-delayed-future")
    broken("queue-history")
    broken("worker-restarting")
    run = queue_run()
    assert run.outcome == "pass", run.output
    delayed = run.check("queues.no_overdue_delayed[notifications]")["observed"]
    # Due in minutes at least: the seed's own 1 h reminders age with the session sandbox.
    assert delayed["delayed"] >= 20 and delayed["due"] == 0 and delayed["next_due_in_s"] > 600
    lag = run.check("queues.lag[notifications]")["observed"]
    assert lag["oldest_wait_s"] is None or lag["oldest_wait_s"] < 120  # reminders are not waiting
    history = run.check("queues.failed_rate[emails]")["observed"]
    assert history["failed_kept"] >= 5 and history["completed_in_window"] >= 150
    assert run.check("queues.backlog[emails]")["observed"]["waiting"] <= 200
    workers = run.check("queues.workers_present[emails]")["observed"]
    assert workers["workers"] == 1 and workers["names"] == ["bull:ZW1haWxz:w:node-emails"]
