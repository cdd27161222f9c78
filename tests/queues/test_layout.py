"""The probe against jobs written by the real producers (Node bullmq and Python bullmq), on the
session sandbox's Redis: FIFO, LIFO, prioritized, delayed, promoted, retried, paused.

Ages are checked exactly through Redis's clock: ready time = now_ms - age (no sleeps)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.queues.conftest import node_produce

HOUR_MS = 3_600_000


def produce(
    kind: str, live: Any, queue: str, steps: list[dict[str, Any]], tmp_path: Path
) -> list[str]:
    """Run `steps` (add / pause / resume) with the Node or the Python BullMQ producer."""
    if kind == "node":
        return node_produce(live, queue, steps, tmp_path)
    from verify.sandbox.queues.jobs import Producer

    async def run() -> list[str]:
        producer = Producer(live.app_options)
        ids = []
        try:
            for step in steps:
                if step["op"] == "add":
                    job = await producer.queue(queue).add(
                        step.get("name", "job"), step.get("data", {}), step.get("opts", {})
                    )
                    ids.append(str(job.id))
                else:
                    await getattr(producer.queue(queue), step["op"])()
        finally:
            await producer.close()
        return ids

    return asyncio.run(run())


def observe(handle: Any, *queues: str) -> Any:
    from verify.probes import bullmq

    limits = {q: bullmq.QueueLimits(window_s=300, grace_s=60) for q in queues}
    return bullmq.observe(handle, "bull", limits, 100, 5.0)


def ready_ms(obs: Any, queue: str) -> int:
    state = obs.queues[queue]
    assert state.oldest_wait_s is not None
    return obs.now_ms - round(state.oldest_wait_s * 1000)


def now_ms(admin: Any) -> int:
    seconds, micros = admin.time()
    return int(seconds) * 1000 + int(micros) // 1000


PRODUCERS = ["node", "python"]


@pytest.mark.parametrize("kind", PRODUCERS)
def test_fifo_oldest_is_the_first_added(
    kind: str, live: Any, admin: Any, handle: Any, fresh_queue: Callable[[str], str], tmp_path: Path
) -> None:
    queue, base = fresh_queue("fifo"), now_ms(admin)
    steps = [{"op": "add", "opts": {"timestamp": base - age}} for age in (30_000, 20_000, 10_000)]
    ids = produce(kind, live, queue, steps, tmp_path)
    obs = observe(handle, queue)
    state = obs.queues[queue]
    assert (state.wait, state.waiting, state.oldest_job) == (3, 3, ids[0])
    assert ready_ms(obs, queue) == base - 30_000


@pytest.mark.parametrize("kind", PRODUCERS)
def test_lifo_job_on_the_tail_does_not_hide_the_oldest(
    kind: str, live: Any, admin: Any, handle: Any, fresh_queue: Callable[[str], str], tmp_path: Path
) -> None:
    queue, base = fresh_queue("lifo"), now_ms(admin)
    steps = [
        {"op": "add", "opts": {"timestamp": base - 50_000}},
        {"op": "add", "opts": {"timestamp": base - 5_000, "lifo": True}},
    ]
    first, lifo = produce(kind, live, queue, steps, tmp_path)
    assert admin.lindex(f"bull:{queue}:wait", -1) == lifo  # the LIFO job is next, on the tail
    obs = observe(handle, queue)
    assert obs.queues[queue].oldest_job == first
    assert ready_ms(obs, queue) == base - 50_000


@pytest.mark.parametrize("kind", PRODUCERS)
def test_prioritized_jobs_count_and_age(
    kind: str, live: Any, admin: Any, handle: Any, fresh_queue: Callable[[str], str], tmp_path: Path
) -> None:
    queue, base = fresh_queue("prio"), now_ms(admin)
    steps = [
        {"op": "add", "opts": {"timestamp": base - 40_000, "priority": 5}},
        {"op": "add", "opts": {"timestamp": base - 10_000}},
    ]
    prioritized, _ = produce(kind, live, queue, steps, tmp_path)
    obs = observe(handle, queue)
    state = obs.queues[queue]
    assert (state.prioritized, state.wait, state.waiting) == (1, 1, 2)
    assert state.oldest_job == prioritized
    assert ready_ms(obs, queue) == base - 40_000


@pytest.mark.parametrize("kind", PRODUCERS)
def test_delayed_into_the_future_is_not_waiting_nor_overdue(
    kind: str, live: Any, admin: Any, handle: Any, fresh_queue: Callable[[str], str], tmp_path: Path
) -> None:
    queue, base = fresh_queue("future"), now_ms(admin)
    # a reminder created two hours ago, due in one hour
    produce(
        kind,
        live,
        queue,
        [{"op": "add", "opts": {"timestamp": base - 2 * HOUR_MS, "delay": 3 * HOUR_MS}}],
        tmp_path,
    )
    state = observe(handle, queue).queues[queue]
    assert (state.delayed, state.due_delayed, state.overdue_delayed, state.waiting) == (1, 0, 0, 0)
    assert state.oldest_wait_s is None and state.next_delayed_in_s is not None
    assert state.next_delayed_in_s > 0.9 * HOUR_MS / 1000


@pytest.mark.parametrize("kind", PRODUCERS)
def test_due_delayed_job_without_a_worker_is_overdue(
    kind: str, live: Any, admin: Any, handle: Any, fresh_queue: Callable[[str], str], tmp_path: Path
) -> None:
    queue, base = fresh_queue("overdue"), now_ms(admin)
    steps = [
        {"op": "add", "opts": {"timestamp": base - 100_000, "delay": 1_000}},  # due 99 s ago
        {"op": "add", "opts": {"timestamp": base - 30_000, "delay": 1_000}},
    ]  # due 29 s ago: in grace
    produce(kind, live, queue, steps, tmp_path)
    obs = observe(handle, queue)
    state = obs.queues[queue]
    assert (state.delayed, state.due_delayed, state.overdue_delayed) == (2, 2, 1)
    assert state.most_overdue_s is not None
    assert obs.now_ms - round(state.most_overdue_s * 1000) == base - 99_000


def test_promoted_delayed_job_waits_from_its_ready_time(
    live: Any, admin: Any, handle: Any, fresh_queue: Callable[[str], str], tmp_path: Path
) -> None:
    queue, base = fresh_queue("promoted"), now_ms(admin)
    (job,) = node_produce(
        live,
        queue,
        [{"op": "add", "opts": {"timestamp": base - 100_000, "delay": 1_000}}],
        tmp_path,
    )
    node_produce(live, queue, [{"op": "promote", "id": job}], tmp_path)
    assert admin.hget(f"bull:{queue}:{job}", "delay") == "0"  # promotion zeroes the hash's delay
    obs = observe(handle, queue)
    assert obs.queues[queue].oldest_job == job and obs.queues[queue].delayed == 0
    assert ready_ms(obs, queue) == base - 100_000 + 1_000  # created + opts.delay, not created


def test_retried_job_waits_from_its_last_attempt(
    live: Any, admin: Any, handle: Any, fresh_queue: Callable[[str], str], tmp_path: Path
) -> None:
    """A job that failed once (Python worker) and was retried waits from its last attempt."""
    queue, base = fresh_queue("retried"), now_ms(admin)
    opts = {
        "timestamp": base - 600_000,
        "attempts": 2,
        "backoff": {"type": "fixed", "delay": HOUR_MS},
    }
    (job,) = produce("python", live, queue, [{"op": "add", "name": "fail", "opts": opts}], tmp_path)
    with python_worker(live, queue, tmp_path):
        wait_for(lambda: admin.hget(f"bull:{queue}:{job}", "atm") == "1")
    state = observe(handle, queue).queues[queue]
    assert (state.delayed, state.due_delayed, state.waiting) == (1, 0, 0)  # retry in an hour
    node_produce(live, queue, [{"op": "promote", "id": job}], tmp_path)
    obs = observe(handle, queue)
    processed = int(admin.hget(f"bull:{queue}:{job}", "processedOn"))
    assert obs.queues[queue].oldest_job == job
    assert ready_ms(obs, queue) == processed  # not the creation 10 minutes ago


@pytest.mark.parametrize("kind", PRODUCERS)
def test_paused_queue(
    kind: str, live: Any, admin: Any, handle: Any, fresh_queue: Callable[[str], str], tmp_path: Path
) -> None:
    queue = fresh_queue("paused")
    produce(kind, live, queue, [{"op": "add"}, {"op": "pause"}, {"op": "add"}], tmp_path)
    state = observe(handle, queue).queues[queue]
    assert state.paused and state.paused_how == "meta.paused"
    assert state.waiting == 2 and state.paused_list == 0  # v6 keeps them in wait
    produce(kind, live, queue, [{"op": "resume"}], tmp_path)
    assert not observe(handle, queue).queues[queue].paused


def test_v5_paused_layout(
    live: Any, admin: Any, handle: Any, fresh_queue: Callable[[str], str], tmp_path: Path
) -> None:
    """BullMQ v5 renamed wait to `paused`; the jobs there still wait and still age."""
    queue, base = fresh_queue("v5"), now_ms(admin)
    (job,) = node_produce(
        live, queue, [{"op": "add", "opts": {"timestamp": base - 70_000}}], tmp_path
    )
    admin.rename(f"bull:{queue}:wait", f"bull:{queue}:paused")
    admin.hset(f"bull:{queue}:meta", "paused", "1")
    obs = observe(handle, queue)
    state = obs.queues[queue]
    assert state.paused and (state.paused_list, state.waiting, state.oldest_job) == (1, 1, job)
    assert ready_ms(obs, queue) == base - 70_000
    admin.hdel(f"bull:{queue}:meta", "paused")  # a v6 worker never drains a leftover v5 list
    state = observe(handle, queue).queues[queue]
    assert not state.paused and state.paused_how == "jobs in the v5 paused list"


def test_unused_queue_has_nothing_and_no_worker(
    handle: Any, fresh_queue: Callable[[str], str]
) -> None:
    queue = fresh_queue("typo")
    state = observe(handle, queue).queues[queue]
    assert not state.known and state.waiting == 0 and state.oldest_wait_s is None
    assert state.workers.count == 0  # a misspelled queue name fails workers_present


def test_one_round_trip_for_every_queue(handle: Any, fresh_queue: Callable[[str], str]) -> None:
    queues = [
        "emails",
        "imports",
        "notifications",
        "mirror-refresh",
        *(fresh_queue("rt") for _ in range(40)),
    ]
    observe(handle, "emails")  # connected (AUTH is the connection's own round trip)
    obs = observe(handle, *queues)
    assert obs.round_trips == 1 and len(obs.queues) == 44


class python_worker:
    """The sandbox's Python BullMQ worker on `queue`, for as long as the block runs."""

    def __init__(self, live: Any, queue: str, tmp_path: Path) -> None:
        self.config = {
            "queue": queue,
            "name": "t-worker",
            "prefix": "bull",
            "lockDuration": 4000,
            "stalledInterval": 3000,
            "connection": live.worker_options,
        }
        self.log = tmp_path / "worker.log"

    def __enter__(self) -> None:
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "verify.sandbox.queues.pyworker"],
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(self.config).encode())
        self.proc.stdin.close()

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def wait_for(condition: Callable[[], bool], timeout_s: float = 30) -> None:
    """Poll until `condition` (a bound on waiting, not an assertion on time)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)
