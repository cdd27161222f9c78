"""The canary against real workers: completed by a Node worker and by a Python worker, nothing
left behind; a paused queue or no worker at all is a failed canary, not a hang."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest


@contextmanager
def worker(kind: str, live: Any, queue: str) -> Iterator[None]:
    from verify.sandbox.queues import workers
    from verify.sandbox.queues.workers import WorkerSpec

    spec = WorkerSpec(kind, queue)
    pid = workers.start(spec, live.worker_options, live.node_dir, live.logs)
    try:
        admin = live.admin()
        workers.wait_connected(admin, [spec], {spec.name: pid}, live.node_dir)
        admin.close()
        yield
    finally:
        workers.stop(spec, pid, live.node_dir)


def canary(handle: Any, queue: str, timeout_s: float = 10.0) -> Any:
    from verify.probes import canary as probe

    return probe.run(handle, "bull", queue, timeout_s, lambda: 5.0)


@pytest.mark.parametrize("kind", ["node", "python"])
def test_a_worker_completes_the_canary_and_nothing_is_left(
    kind: str, live: Any, admin: Any, handle: Any, fresh_queue: Callable[[str], str]
) -> None:
    queue = fresh_queue(f"canary-{kind}")
    with worker(kind, live, queue):
        result = canary(handle, queue)
    assert (result.outcome, result.cleaned) == ("completed", True), result
    base = f"bull:{queue}"
    assert not admin.exists(f"{base}:{result.job_id}")
    for zset in ("completed", "failed"):
        assert admin.zscore(f"{base}:{zset}", result.job_id) is None
    assert admin.llen(f"{base}:wait") == 0 and admin.llen(f"{base}:active") == 0


def test_no_worker_is_a_timeout_and_the_job_is_removed(
    admin: Any, handle: Any, fresh_queue: Callable[[str], str]
) -> None:
    queue = fresh_queue("canary-none")
    result = canary(handle, queue, timeout_s=0.5)
    assert (result.outcome, result.cleaned) == ("timeout", True)
    assert admin.llen(f"bull:{queue}:wait") == 0 and not admin.exists(
        f"bull:{queue}:{result.job_id}"
    )


def test_paused_queue_gets_no_canary(
    admin: Any, handle: Any, fresh_queue: Callable[[str], str]
) -> None:
    queue = fresh_queue("canary-paused")
    admin.hset(f"bull:{queue}:meta", "paused", "1")
    result = canary(handle, queue)
    assert result.outcome == "paused" and result.job_id is None
    assert admin.llen(f"bull:{queue}:wait") == 0


def test_canary_is_written_like_bullmq(
    admin: Any, handle: Any, fresh_queue: Callable[[str], str]
) -> None:
    """The job hash and the wake-up marker are what BullMQ's addStandardJob writes."""
    queue = fresh_queue("canary-shape")
    result = canary(handle, queue, timeout_s=0.0)
    assert result.outcome == "timeout"
    assert admin.zscore(f"bull:{queue}:marker", "0") == 0.0
