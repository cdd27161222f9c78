"""Runs a run's probes concurrently and hands each check the observation it waits on."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from verify.probes.errors import ProbeError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping


@dataclass(frozen=True)
class ProbeTiming:
    key: str
    started_s: float  # since the scheduler was created
    duration_s: float
    ok: bool


class Observations:
    """Futures of probe results, keyed like `ecs.cluster`; every probe runs at most once at a time.

    `start` submits probes without waiting, `get` waits for one (bounded by the run deadline),
    `refresh` runs one again (settle polling) and makes its result the one `get` returns.
    """

    def __init__(
        self,
        probes: Mapping[str, Callable[[], Any]],
        *,
        deadline_s: float,
        max_workers: int = 32,
    ) -> None:
        self._probes = dict(probes)
        self._origin = time.perf_counter()
        self._deadline = self._origin + deadline_s
        self._executor = ThreadPoolExecutor(max_workers, thread_name_prefix="verify-probe")
        self._futures: dict[str, Future[Any]] = {}
        self._lock = threading.Lock()
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
            timing = ProbeTiming(key, started - self._origin, ended - started, ok)
            with self._lock:
                self.timings.append(timing)

    def start(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                if key not in self._futures:
                    self._futures[key] = self._executor.submit(self._timed, key)

    def _wait(self, key: str, future: Future[Any]) -> Any:
        remaining = self._deadline - time.perf_counter()
        try:
            return future.result(timeout=max(remaining, 0.0))
        except FutureTimeout:
            raise ProbeError(key, "no observation before the run deadline") from None

    def get(self, key: str) -> Any:
        self.start([key])
        return self._wait(key, self._futures[key])

    def refresh(self, key: str) -> Any:
        future = self._executor.submit(self._timed, key)
        with self._lock:
            self._futures[key] = future
        return self._wait(key, future)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
