"""Daemon threads only: a call stuck on a silent endpoint must never hold the process open."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


def settle(future: Future[T], fn: Callable[[], T]) -> None:
    """Run `fn` into `future` (any failure travels in the future)."""
    if not future.set_running_or_notify_cancel():
        return
    try:
        future.set_result(fn())
    except BaseException as error:  # the Future carries any failure to whoever waits on it
        future.set_exception(error)


class DaemonExecutor(Executor):
    """At most `max_workers` calls at once, each on its own daemon thread.

    Unlike ThreadPoolExecutor, nothing joins these threads at interpreter exit.
    """

    def __init__(self, max_workers: int, name: str = "verify") -> None:
        self._slots = threading.BoundedSemaphore(max(max_workers, 1))
        self._name = name
        self._pending: set[Future[Any]] = set()
        self._lock = threading.Lock()

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            self._pending.add(future)

        def run() -> None:
            with self._slots:
                settle(future, lambda: fn(*args, **kwargs))
            with self._lock:
                self._pending.discard(future)

        threading.Thread(target=run, name=self._name, daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Cancel calls not started yet when asked; never waits for running ones."""
        if cancel_futures:
            with self._lock:
                pending = list(self._pending)
            for future in pending:
                future.cancel()
