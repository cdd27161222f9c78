"""A running Redis part, as its state file recorded it: config, clients, worker processes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verify.sandbox import procs
from verify.sandbox.errors import SandboxError
from verify.sandbox.part import PartState
from verify.sandbox.queues import server, workers
from verify.sandbox.queues.server import APP_USER, WORKER_USER, RedisConfig

APP_SECRET = "/mobilytics/local/app-api/redis-auth"
WORKERS_SECRET = "/mobilytics/local/bullmq-workers/redis-auth"
SETTLE_TIMEOUT_S = 30.0


@dataclass
class Live:
    """The part's state plus what can be derived from it."""

    state: PartState

    @property
    def config(self) -> RedisConfig:
        return RedisConfig(**self.state.data["server"])

    @property
    def node_dir(self) -> Path:
        return Path(self.state.data["node_dir"])

    @property
    def logs(self) -> Path:
        return Path(self.state.data["server"]["dir"])

    @property
    def app_options(self) -> dict[str, Any]:
        return self.config.client_options(APP_USER, self.state.secrets[APP_SECRET])

    @property
    def worker_options(self) -> dict[str, Any]:
        return self.config.client_options(WORKER_USER, self.state.secrets[WORKERS_SECRET])

    def admin(self) -> Any:
        return server.admin(self.config, self.state.data["admin"])

    def now_ms(self, admin: Any) -> int:
        """Redis's clock (TIME), the one the probe reads."""
        seconds, micros = admin.time()
        return int(seconds) * 1000 + int(micros) // 1000

    # -- processes --------------------------------------------------------------------------
    # Kept in data, not in PartState.pids: a worker stopped by a fault, or dying while Redis
    # is down, must not make the whole sandbox look dead (SandboxState.alive).
    @property
    def procs(self) -> dict[str, int]:
        procs: dict[str, int] = self.state.data.setdefault("procs", {})
        return procs

    def pid_of(self, name: str) -> int | None:
        """The pid of a worker, the producer or redis-server, while it runs."""
        return self.procs.get(name)

    def redis_alive(self) -> bool:
        pid = self.procs.get("redis")
        return pid is not None and procs.pid_alive(pid, self.config.marker())

    def worker_alive(self, name: str) -> bool:
        pid = self.pid_of(name)
        return pid is not None and workers.alive(workers.BY_NAME[name], pid, self.node_dir)

    def start_workers(self, names: list[str], admin: Any) -> None:
        specs = [workers.BY_NAME[n] for n in names]
        for spec in specs:
            pid = workers.start(spec, self.worker_options, self.node_dir, self.logs)
            self.procs[spec.name] = pid
        workers.wait_connected(
            admin, specs, {s.name: self.pid_of(s.name) or 0 for s in specs}, self.node_dir
        )

    def stop_worker(self, name: str) -> None:
        pid = self.procs.pop(name, None)
        if pid is not None:
            workers.stop(workers.BY_NAME[name], pid, self.node_dir)


def wait_until(
    what: str, condition: Callable[[], bool], timeout_s: float = SETTLE_TIMEOUT_S
) -> None:
    """Poll `condition` until true; SandboxError naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise SandboxError(f"sandbox redis: {what} not reached after {timeout_s:.0f} s")
        time.sleep(0.05)
