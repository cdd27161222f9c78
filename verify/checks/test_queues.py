"""BullMQ checks, one set per configured queue: consumed in time, not paused, workers present,
delayed jobs promoted, failures and stalls in bounds; and a canary job a worker completes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from verify.components.queues import Limit, limit
from verify.text import plural

if TYPE_CHECKING:
    from verify.config import EnvConfig
    from verify.fixtures.core import CheckRecord
    from verify.probes.bullmq import QueueState
    from verify.probes.canary import CanaryObservation

pytestmark = [pytest.mark.smoke, pytest.mark.synthetic]


def _limit(env: EnvConfig, thresholds: Any, queue: str, field: str) -> Limit:
    return limit(env.table("queues"), thresholds, queue, field)


def _num(value: float) -> str:
    return f"{value:g}"


def test_lag(
    queue_state: QueueState,
    verify_env: EnvConfig,
    verify_thresholds: Any,
    verify_check: CheckRecord,
) -> None:
    """The oldest waiting job (FIFO, LIFO, prioritized, promoted delayed) waits no longer than allowed."""
    q, bound = queue_state, _limit(verify_env, verify_thresholds, queue_state.name, "oldest_wait_s")
    age = q.oldest_wait_s
    verify_check.record(
        observed={
            "oldest_wait_s": None if age is None else round(age, 3),
            "job": q.oldest_job,
            "waiting": q.waiting,
        },
        threshold={"oldest_wait_s": bound.value, "source": bound.source},
        evidence=q.evidence(),
    )
    assert age is None or age <= bound.value, (
        f"queue {q.name}: oldest waiting job {age:.0f} s (job {q.oldest_job}, {plural(q.waiting, 'job')} "
        f"waiting); expected <= {_num(bound.value)} s ({bound.source})"
    )


def test_backlog(
    queue_state: QueueState,
    verify_env: EnvConfig,
    verify_thresholds: Any,
    verify_check: CheckRecord,
) -> None:
    """Jobs waiting (wait, prioritized, paused list) stay under the bound; history does not count."""
    q, bound = queue_state, _limit(verify_env, verify_thresholds, queue_state.name, "max_waiting")
    verify_check.record(
        observed={
            "waiting": q.waiting,
            "wait": q.wait,
            "prioritized": q.prioritized,
            "paused_list": q.paused_list,
        },
        threshold={"max_waiting": bound.value, "source": bound.source},
        evidence=q.evidence(),
    )
    assert q.waiting <= bound.value, (
        f"queue {q.name}: {plural(q.waiting, 'job')} waiting; "
        f"expected <= {_num(bound.value)} ({bound.source})"
    )


def test_not_paused(queue_state: QueueState, verify_check: CheckRecord) -> None:
    """The queue is not paused (meta.paused, v5 and v6) and no job is stranded in the v5 paused list."""
    q = queue_state
    verify_check.record(
        observed={"paused": q.paused, "how": q.paused_how, "paused_list": q.paused_list},
        threshold={"paused": False, "paused_list": 0},
        evidence=q.evidence(),
    )
    assert not q.paused, (
        f"queue {q.name} is paused ({q.paused_how}, {plural(q.waiting, 'job')} waiting); expected not paused"
    )
    assert q.paused_list == 0, (
        f"queue {q.name}: {plural(q.paused_list, 'job')} in the v5 paused list of a running queue "
        "(no worker takes them); expected 0"
    )


def test_workers_present(
    queue_state: QueueState,
    verify_env: EnvConfig,
    verify_thresholds: Any,
    verify_check: CheckRecord,
) -> None:
    """At least min_workers BullMQ workers are connected to the queue (Node or Python)."""
    q, bound = queue_state, _limit(verify_env, verify_thresholds, queue_state.name, "min_workers")
    verify_check.record(
        observed={"workers": q.workers.count, "names": list(q.workers.names), "how": q.workers.how},
        threshold={"min_workers": bound.value, "source": bound.source},
        evidence=q.evidence(),
    )
    assert q.workers.count >= bound.value, (
        f"queue {q.name}: {plural(q.workers.count, 'worker')} connected (via {q.workers.how}); "
        f"expected >= {_num(bound.value)} ({bound.source})"
    )


def test_no_overdue_delayed(
    queue_state: QueueState,
    verify_env: EnvConfig,
    verify_thresholds: Any,
    verify_check: CheckRecord,
) -> None:
    """No delayed job is due for longer than the grace (only a polling worker promotes them)."""
    q, grace = (
        queue_state,
        _limit(verify_env, verify_thresholds, queue_state.name, "delayed_grace_s"),
    )
    verify_check.record(
        observed={"overdue": q.overdue_delayed, "due": q.due_delayed, "delayed": q.delayed,
                  "most_overdue_s": q.most_overdue_s, "next_due_in_s": q.next_delayed_in_s},
        threshold={"overdue": 0, "grace_s": grace.value, "source": grace.source},
        evidence=q.evidence(),
    )  # fmt: skip
    assert q.overdue_delayed == 0, (
        f"queue {q.name}: {plural(q.overdue_delayed, 'delayed job')} due for over {_num(grace.value)} s "
        f"(earliest {q.most_overdue_s or 0:.0f} s ago) and not promoted; expected 0 ({grace.source})"
    )


def test_failed_rate(
    queue_state: QueueState,
    verify_env: EnvConfig,
    verify_thresholds: Any,
    verify_check: CheckRecord,
) -> None:
    """Jobs failed within the window stay under the bound; older failures are history."""
    q, bound = queue_state, _limit(verify_env, verify_thresholds, queue_state.name, "max_failed")
    verify_check.record(
        observed={"failed_in_window": q.failed_recent, "completed_in_window": q.completed_recent,
                  "window_s": q.window_s, "failed_kept": q.failed},
        threshold={"max_failed": bound.value, "source": bound.source},
        evidence=q.evidence(),
    )  # fmt: skip
    assert q.failed_recent <= bound.value, (
        f"queue {q.name}: {plural(q.failed_recent, 'job')} failed in the last {_num(q.window_s)} s "
        f"({q.completed_recent} completed); expected <= {_num(bound.value)} ({bound.source})"
    )


def test_stalled(
    queue_state: QueueState,
    verify_env: EnvConfig,
    verify_thresholds: Any,
    verify_check: CheckRecord,
) -> None:
    """No active job has lost its lock (a worker hung or died holding it)."""
    q, bound = queue_state, _limit(verify_env, verify_thresholds, queue_state.name, "max_stalled")
    verify_check.record(
        observed={
            "stalled": q.stalled_now,
            "job": q.stalled_job,
            "active": q.active,
            "stalled_set": q.stalled_set,
        },
        threshold={"max_stalled": bound.value, "source": bound.source},
        evidence=q.evidence(),
    )
    assert q.stalled_now <= bound.value, (
        f"queue {q.name}: {plural(q.stalled_now, 'active job')} without a lock (job {q.stalled_job}, worker "
        f"hung or gone); expected <= {_num(bound.value)} ({bound.source})"
    )


@pytest.mark.writes
def test_canary(queue_canary: CanaryObservation, verify_check: CheckRecord) -> None:
    """A `verify-canary` job on the canary queue is completed by a worker within the timeout."""
    c = queue_canary
    verify_check.record(
        observed={
            "outcome": c.outcome,
            "seconds": round(c.seconds, 3),
            "job": c.job_id,
            "cleaned": c.cleaned,
        },
        threshold={"outcome": "completed", "timeout_s": c.timeout_s},
        evidence=c.evidence(),
    )
    assert c.outcome != "paused", (
        f"queue {c.queue} is paused: canary not enqueued; expected a worker to complete it"
    )
    assert c.outcome != "failed", (
        f"queue {c.queue}: canary job {c.job_id} failed ({c.failed_reason}); expected completed"
    )
    assert c.outcome == "completed", (
        f"queue {c.queue}: canary job {c.job_id} not completed after {c.timeout_s:g} s; expected a worker to "
        "complete it (queue_canary_timeout_s)"
    )
