"""The scheduler: concurrent, bounded by the deadline, thread affinity, no overlapping re-probes."""

from __future__ import annotations

import threading
import time

import pytest

from verify.context import Deadline, DeadlineExceeded
from verify.scheduler import Scheduler


def test_probes_run_at_once_on_daemon_threads() -> None:
    seen: dict[str, threading.Thread] = {}
    barrier = threading.Barrier(3, timeout=5)

    def probe(name: str) -> str:
        seen[name] = threading.current_thread()
        barrier.wait()  # all three must be running at the same time to get past this
        return name

    scheduler = Scheduler({k: (lambda k=k: probe(k)) for k in "abc"}, deadline=Deadline(30))
    scheduler.start("abc")
    assert [scheduler.get(k) for k in "abc"] == ["a", "b", "c"]
    assert all(thread.daemon for thread in seen.values())
    assert [t.key for t in sorted(scheduler.timings, key=lambda t: t.key)] == ["a", "b", "c"]


def test_a_hung_probe_is_an_error_at_the_deadline() -> None:
    release = threading.Event()
    scheduler = Scheduler(
        {"hung": lambda: release.wait(60)}, deadline=Deadline(1.0, start=time.monotonic())
    )
    with pytest.raises(DeadlineExceeded) as raised:
        scheduler.get("hung")
    assert str(raised.value) == "hung: no observation before the run deadline (1 s)"
    assert scheduler.running()
    release.set()


def test_probes_with_one_affinity_share_one_thread_and_close_there() -> None:
    threads: list[int] = []
    closed_on: list[int] = []

    def probe() -> int:
        threads.append(threading.get_ident())
        return len(threads)

    affinity = {"first": "browser", "second": "browser"}
    scheduler = Scheduler(
        {"first": probe, "second": probe}, deadline=Deadline(30), affinity=affinity
    )
    scheduler.start(["first", "second"])
    scheduler.get("first"), scheduler.get("second"), scheduler.refresh("first")
    assert len(threads) == 3 and len(set(threads)) == 1
    scheduler.close([("browser", lambda: closed_on.append(threading.get_ident()))])
    assert closed_on == threads[:1]


def test_a_refresh_waits_for_the_run_under_way_instead_of_starting_another() -> None:
    running = threading.Semaphore(0)
    proceed = threading.Event()
    calls = []

    def probe() -> int:
        calls.append(1)
        running.release()
        proceed.wait(5)
        return len(calls)

    scheduler = Scheduler({"p": probe}, deadline=Deadline(30))
    scheduler.start(["p"])
    assert running.acquire(timeout=5)
    answers: list[int] = []
    waiter = threading.Thread(target=lambda: answers.append(scheduler.refresh("p")))
    waiter.start()
    time.sleep(0.1)
    proceed.set()
    waiter.join(5)
    assert answers == [1] and len(calls) == 1  # one run, shared
    assert scheduler.refresh("p") == 2  # finished: a refresh observes again


def test_age_says_how_old_the_latest_observation_is_so_settle_skips_needless_waits() -> None:
    gate = threading.Event()
    scheduler = Scheduler({"p": lambda: gate.wait(5)}, deadline=Deadline(30))
    scheduler.start(["p"])
    assert scheduler.age("p") == 0.0  # under way: wait for it, never start another
    gate.set()
    scheduler.get("p")
    time.sleep(0.3)
    assert 0.3 <= scheduler.age("p") < 5
    scheduler.refresh("p")
    assert scheduler.age("p") < 0.3
