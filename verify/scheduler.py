"""Runs a run's probes concurrently and hands each check the observation it waits on.

Every probe runs on a daemon thread: a probe stuck on an endpoint that never answers cannot hold
the process open past the run deadline. Probes with an `affinity` run one after another on one
dedicated thread (Playwright's sync API only works on the thread that started it); the handles
they share are closed on that thread at the end.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from verify.context import DeadlineExceeded, set_thread_affinity
from verify.threads import settle

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from verify.context import Deadline


@dataclass(frozen=True)
class ProbeTiming:
    key: str
    started_s: float  # since the scheduler was created
    duration_s: float
    ok: bool


class AffinityThread:
    """One daemon thread running submitted calls in order (a browser lives on it)."""

    def __init__(self, name: str) -> None:
        self._calls: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]] | None] = (
            queue.SimpleQueue()
        )
        self._thread = threading.Thread(
            target=self._loop, args=(name,), name=f"verify-{name}", daemon=True
        )
        self._thread.start()

    def _loop(self, name: str) -> None:
        set_thread_affinity(name)
        while (item := self._calls.get()) is not None:
            call, future = item
            settle(future, call)

    def submit(self, call: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        self._calls.put((call, future))
        return future

    def stop(self) -> None:
        self._calls.put(None)


def _on_daemon_thread(call: Callable[[], Any], name: str) -> Future[Any]:
    future: Future[Any] = Future()
    threading.Thread(target=settle, args=(future, call), name=name, daemon=True).start()
    return future


class Scheduler:
    """Futures of probe results keyed like `ecs.cluster`; a probe never runs twice at once.

    `start` submits probes without waiting, `get` waits for one (bounded by the run deadline),
    `refresh` observes again (settle polling): it waits for a run already under way instead of
    starting a second one, and makes the fresh result the one `get` returns.
    """

    def __init__(
        self,
        probes: Mapping[str, Callable[[], Any]],
        *,
        deadline: Deadline,
        affinity: Mapping[str, str | None] | None = None,
    ) -> None:
        self._probes = dict(probes)
        self._affinity = dict(affinity or {})
        self._deadline = deadline
        self._origin = time.perf_counter()
        self._futures: dict[str, Future[Any]] = {}
        self._threads: dict[str, AffinityThread] = {}
        self._lock = threading.Lock()
        self._observed_at: dict[str, float] = {}  # key -> monotonic end of its latest observation
        self.timings: list[ProbeTiming] = []

    def _timed(self, key: str) -> Any:
        started = time.perf_counter()
        ok = False
        try:
            result = self._probes[key]()
            ok = True
            return result
        finally:
            ended = time.perf_counter()
            with self._lock:
                self.timings.append(ProbeTiming(key, started - self._origin, ended - started, ok))
                self._observed_at[key] = time.monotonic()

    def _submit(self, key: str) -> Future[Any]:
        """Start `key` (caller holds the lock)."""
        if key not in self._probes:
            raise KeyError(f"no probe {key!r} registered")
        affinity = self._affinity.get(key)
        if affinity is None:
            future = _on_daemon_thread(lambda: self._timed(key), f"verify-probe-{key}")
        else:
            if affinity not in self._threads:
                self._threads[affinity] = AffinityThread(affinity)
            future = self._threads[affinity].submit(lambda: self._timed(key))
        self._futures[key] = future
        return future

    def start(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                if key not in self._futures:
                    self._submit(key)

    def running(self) -> bool:
        """Some probe has not finished (its thread may be stuck on a silent endpoint)."""
        with self._lock:
            return any(not f.done() for f in self._futures.values())

    def _wait(self, key: str, future: Future[Any]) -> Any:
        try:
            return future.result(timeout=max(self._deadline.left(), 0.0))
        except FutureTimeout:
            raise DeadlineExceeded(
                key, f"no observation before the run deadline ({self._deadline.seconds:g} s)"
            ) from None

    def get(self, key: str) -> Any:
        with self._lock:
            future = self._futures.get(key) or self._submit(key)
        return self._wait(key, future)

    def age(self, key: str) -> float:
        """Seconds since `key`'s latest observation ended (0 while one is under way)."""
        with self._lock:
            current = self._futures.get(key)
            if current is not None and not current.done():
                return 0.0
            return time.monotonic() - self._observed_at.get(key, time.monotonic())

    def refresh(self, key: str) -> Any:
        with self._lock:
            current = self._futures.get(key)
            future = current if current is not None and not current.done() else self._submit(key)
        return self._wait(key, future)

    def close(
        self, closers: Iterable[tuple[str | None, Callable[[], None]]] = (), budget_s: float = 1.5
    ) -> None:
        """Close shared handles, each on its own thread, within `budget_s` in all; let go of the rest.

        A handle whose thread is stuck on a silent endpoint is not waited for: the threads are
        daemons, so the process still ends.
        """
        if self.running():
            budget_s = min(
                budget_s, 0.3
            )  # a probe is stuck on a silent endpoint: do not wait on it
        ends = time.monotonic() + budget_s
        for affinity, close in closers:
            thread = self._threads.get(affinity) if affinity else None
            future = thread.submit(close) if thread else _on_daemon_thread(close, "verify-close")
            with contextlib.suppress(BaseException):  # closing is best effort at the end
                future.result(timeout=max(ends - time.monotonic(), 0.0))
        for thread in self._threads.values():
            thread.stop()
