"""What a probe may use: its component's table, clients, secrets and the time left in the run."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

from verify.probes.errors import ProbeError

if TYPE_CHECKING:
    from collections.abc import Callable

    from verify.clients import AwsClients
    from verify.config import EnvConfig
    from verify.registry import Component
    from verify.secrets import Secret

T = TypeVar("T")
# A call is never given less than this: below it every request would time out at once.
MIN_CALL_TIMEOUT_S = 0.05


class DeadlineExceeded(ProbeError):
    """The run deadline passed before (or while) the probe could observe."""


class Deadline:
    """A point on the monotonic clock the whole run must finish by.

    Probes and checks stop a little before it (`WRAP_UP_S`, at most 30 % of the run), so the
    verdict is written by the deadline and the process has ended a second or two after it.
    """

    WRAP_UP_S = 2.0

    def __init__(self, seconds: float, *, start: float | None = None) -> None:
        self.seconds = seconds
        reserve = min(self.WRAP_UP_S, seconds * 0.3)
        self.at = (time.monotonic() if start is None else start) + seconds - reserve

    def left(self) -> float:
        return self.at - time.monotonic()

    def passed(self) -> bool:
        return self.left() <= 0

    def cap(self, seconds: float, what: str = "run") -> float:
        """`seconds`, or less if the deadline comes first; DeadlineExceeded when it has passed."""
        left = self.left()
        if left <= MIN_CALL_TIMEOUT_S:
            raise DeadlineExceeded(what, f"run deadline ({self.seconds:g} s) passed")
        return min(seconds, left)


class RunResources:
    """Run-scoped objects shared by every probe: clients, resolved secrets, shared handles.

    Secrets resolve once per run, whichever probe asks first; no lock is held across the fetch.
    Shared handles (a Redis client, a browser) are built once, on the thread that first asks,
    and closed at the end of the run on that same thread (see Scheduler.close).
    """

    def __init__(
        self, env: EnvConfig, aws: AwsClients, deadline: Deadline, *, release: str | None = None
    ) -> None:
        self.env = env
        self.aws = aws
        self.deadline = deadline
        self.release = release  # the release that must be live, when the run was told it
        self.observe: Callable[[str], Any] = _no_scheduler
        self._lock = threading.Lock()
        self._secrets: dict[str, Future[Secret]] = {}
        self._shared: dict[str, Future[Any]] = {}
        self.closers: list[tuple[str | None, Callable[[], None]]] = []  # (affinity, close)

    def secret(self, reference: str) -> Secret:
        from verify.secrets import resolve

        with self._lock:
            future = self._secrets.get(reference)
            owner = future is None
            if future is None:
                future = self._secrets[reference] = Future()
        if owner:
            try:
                future.set_result(resolve(reference, self.aws, env=self.env))
            except BaseException as error:
                future.set_exception(error)
        return future.result(timeout=self.deadline.cap(3600, reference))

    def shared(
        self, key: str, build: Callable[[], T], close: Callable[[T], None] | None = None
    ) -> T:
        with self._lock:
            future = self._shared.get(key)
            owner = future is None
            if future is None:
                future = self._shared[key] = Future()
        if owner:
            try:
                value = build()
            except BaseException as error:
                future.set_exception(error)
                raise
            future.set_result(value)
            if close is not None:
                affinity = getattr(_THREAD, "affinity", None)
                with self._lock:
                    self.closers.append((affinity, lambda: close(value)))
        result: T = future.result(timeout=self.deadline.cap(3600, key))
        return result


def _no_scheduler(key: str) -> Any:
    raise ProbeError(key, "no scheduler to observe with")


_THREAD = threading.local()  # `.affinity`: the affinity name of a dedicated probe thread


def set_thread_affinity(name: str | None) -> None:
    _THREAD.affinity = name


class ProbeContext:
    """A probe's view of the run, bound to its component."""

    def __init__(self, resources: RunResources, component: Component | None) -> None:
        self._resources = resources
        self.component = component
        self.env = resources.env
        self.deadline = resources.deadline

    @property
    def table(self) -> Any:
        """The component's table of environments.toml (its pydantic model)."""
        if self.component is None:
            raise ProbeError("context", "this probe has no component")
        return self.env.table(self.component.name)

    @property
    def thresholds(self) -> Any:
        """The run's thresholds (every registered component's fields)."""
        return self.env.thresholds

    def aws(self, service: str) -> Any:
        """The boto3 client of `service`; its calls stop when the run deadline passes."""
        return self._resources.aws.client(service)

    @property
    def release(self) -> str | None:
        """The release the run was told must be live (--release, the sandbox's), else None."""
        return self._resources.release

    def observe(self, key: str) -> Any:
        """Another probe's observation (started if it is not yet), within the deadline."""
        return self._resources.observe(key)

    def secret(self, reference: str) -> Secret:
        return self._resources.secret(reference)

    def shared(
        self, key: str, build: Callable[[], T], close: Callable[[T], None] | None = None
    ) -> T:
        """A handle built once per run (on the first caller's thread) and closed at the end."""
        return self._resources.shared(key, build, close)

    def timeout(self, configured: float) -> float:
        """A per-call timeout: `configured`, capped by the time left in the run."""
        return self.deadline.cap(configured, self.component.name if self.component else "probe")
