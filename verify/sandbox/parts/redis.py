"""Part `redis`: a real redis-server (TLS, ACL AUTH, maxmemory, no persistence) with BullMQ
queues fed by a producer and consumed by real Node and Python BullMQ workers."""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict
from pathlib import Path
from typing import ClassVar

from verify.sandbox import procs, tlsca
from verify.sandbox.errors import SandboxError
from verify.sandbox.part import Fault, PartContext, PartState
from verify.sandbox.queues import faults, jobs, nodedeps, server, workers
from verify.sandbox.queues.live import APP_SECRET, WORKERS_SECRET, Live
from verify.sandbox.queues.server import ADMIN_USER, APP_USER, WORKER_USER, RedisConfig

PORT_ATTEMPTS = 3
# Workers a fault keeps stopped (health and a Redis restart leave them down).
STOPPED_BY = {
    "queue-no-workers": ("node-notifications", "py-notifications"),
    "worker-restarting": ("py-emails",),
}


def kept_down(faults: set[str] | list[str]) -> set[str]:
    """The workers `faults` keep stopped."""
    return {name for fault in faults for name in STOPPED_BY.get(fault, ())}


class RedisPart:
    """Redis as ElastiCache would be in the plan, and the platform's BullMQ workers on it."""

    name: ClassVar[str] = "redis"
    after: ClassVar[tuple[str, ...]] = ()
    serves: ClassVar[tuple[str, ...]] = ("redis", "queues")
    faults: ClassVar[tuple[Fault, ...]] = faults.FAULTS
    aws_extension: ClassVar[str | None] = None

    def start(self, ctx: PartContext) -> PartState:
        started = time.monotonic()
        base = ctx.dir / "redis"
        base.mkdir(mode=0o700, exist_ok=True)
        tls = tlsca.make(base / "tls", "redis")
        passwords = {
            user: secrets.token_urlsafe(32) for user in (APP_USER, WORKER_USER, ADMIN_USER)
        }
        node_dir, installed = nodedeps.ensure(base / "node")
        state = PartState(
            secrets={APP_SECRET: passwords[APP_USER], WORKERS_SECRET: passwords[WORKER_USER]},
            data={"admin": passwords[ADMIN_USER], "node_dir": str(node_dir), "procs": {}},
        )
        live = Live(state)
        try:
            config = self._start_server(live, base, tls, passwords)
            admin = live.admin()
            jobs.run(live.app_options, lambda p: jobs.seed(p, live.now_ms(admin)))
            live.start_workers([w.name for w in workers.WORKERS], admin)
            live.procs["producer"] = workers.start_producer(live.app_options, live.logs)
            admin.close()
        except BaseException:
            self.stop(state)
            raise
        state.endpoints = {"redis": f"rediss://127.0.0.1:{config.port}", "redis-ca": str(tls.ca)}
        state.data["health"] = {
            "check": "verify.sandbox.queues.health:check",
            "port": config.port,
            "ca": str(tls.ca),
            "username": APP_USER,
            "password": passwords[APP_USER],
        }
        state.data["start_s"] = round(time.monotonic() - started, 3)
        state.data["node_installed"] = installed
        ctx.progress(
            f"redis ready on rediss://127.0.0.1:{config.port} with {len(workers.WORKERS)} BullMQ "
            f"workers in {state.data['start_s']:.2f} s" + (" (npm ci ran)" if installed else "")
        )
        return state

    def _start_server(
        self, live: Live, base: Path, tls: tlsca.TlsFiles, passwords: dict[str, str]
    ) -> RedisConfig:
        for attempt in range(PORT_ATTEMPTS):
            config = RedisConfig(
                server.free_port(), str(tls.ca), str(tls.cert), str(tls.key), str(base)
            )
            server.write_config(config, passwords)
            live.state.data["server"] = asdict(config)
            try:
                live.procs["redis"] = server.start(config)
                return config
            except SandboxError:
                if attempt == PORT_ATTEMPTS - 1:  # the port was taken in between: try another
                    raise
        raise AssertionError("unreachable")

    def stop(self, state: PartState) -> None:
        live = Live(state)
        if "server" not in state.data:
            return
        for name in [n for n in live.procs if n != "redis"]:
            if name == "producer":
                procs.stop(live.procs.pop(name))
            else:
                live.stop_worker(name)
        pid = live.procs.pop("redis", None)
        if pid is not None:
            server.stop(pid, live.config)

    def health(self, ctx: PartContext, state: PartState) -> str | None:
        live = Live(state)
        if not live.redis_alive():
            return (
                "redis-server stopped (redis-down)"
                if "redis-down" in state.faults
                else "redis-server died"
            )
        expected_down = kept_down(state.faults)
        dead = [
            w.name
            for w in workers.WORKERS
            if w.name not in expected_down and not live.worker_alive(w.name)
        ]
        return f"BullMQ workers not running: {', '.join(dead)}" if dead else None

    def apply(self, ctx: PartContext, state: PartState, active: frozenset[str]) -> None:
        live = Live(state)
        current = set(state.faults)
        leaving, coming = current - active, active - current
        if "redis-down" in leaving:
            self._restart(live, kept_down(current))
            current.discard("redis-down")
            leaving = {f for f in leaving if f != "redis-down"}
            # A restarted Redis (no persistence) lost what every other fault had put there.
            current -= {"queue-backlog", "queue-paused", "queue-failed-spike", "queue-delayed-overdue",
                        "redis-auth-wrong", "redis-memory-high", "queue-delayed-future", "queue-idle",
                        "queue-history", "queue-stalled"}  # fmt: skip
            leaving &= current
        if leaving or (coming - {"redis-down"}):
            admin = live.admin()
            try:
                for name in sorted(leaving):
                    faults.SWITCHES[name].off(live, admin)
                    current.discard(name)
                for name in sorted(coming - {"redis-down"}):
                    faults.SWITCHES[name].on(live, admin)
                    current.add(name)
            finally:
                admin.close()
                state.faults = sorted(current)
        if "redis-down" in coming:
            self._down(live)
            current.add("redis-down")
        elif "redis-down" not in current and live.redis_alive():
            self._revive(
                live, kept_down(current)
            )  # heal restores every worker, whatever stopped it
        state.faults = sorted(current)

    def _down(self, live: Live) -> None:
        """Stop the server; the workers and the producer stop too (their retry loops would die)."""
        self.stop(live.state)

    def _restart(self, live: Live, down: set[str]) -> None:
        """Start the server again on its port, re-seed, start every worker and the producer."""
        live.procs["redis"] = server.start(live.config)
        admin = live.admin()
        try:
            jobs.run(live.app_options, lambda p: jobs.seed(p, live.now_ms(admin)))
        finally:
            admin.close()
        self._revive(live, down)

    def _revive(self, live: Live, down: set[str]) -> None:
        """Start the workers (but those in `down`) and the producer that do not run."""
        wanted = [w.name for w in workers.WORKERS if w.name not in down]
        missing = [n for n in wanted if not live.worker_alive(n)]
        if missing:
            admin = live.admin()
            try:
                live.start_workers(missing, admin)
            finally:
                admin.close()
        producer = live.procs.get("producer")
        if producer is None or not procs.pid_alive(producer):
            live.procs["producer"] = workers.start_producer(live.app_options, live.logs)

    def active(self, ctx: PartContext, state: PartState) -> frozenset[str]:
        live = Live(state)
        if not live.redis_alive():
            return frozenset({"redis-down"})
        found = set(state.faults) & {
            "queue-failed-spike",
            "queue-delayed-future",
            "queue-idle",
            "queue-history",
        }
        admin = live.admin()
        try:
            hold = {q for q in jobs.QUEUES if admin.exists(jobs.HOLD_PREFIX + q)}
            if "emails" in hold:
                found.add("queue-backlog")
            if "mirror-refresh" in hold:
                found.add("queue-delayed-overdue")
            if admin.hget(f"{jobs.PREFIX}:imports:meta", "paused"):
                found.add("queue-paused")
            if admin.exists(faults.BALLAST):
                found.add("redis-memory-high")
        finally:
            admin.close()
        if not faults.auth_matches(live):
            found.add("redis-auth-wrong")
        if not any(live.worker_alive(n) for n in ("node-notifications", "py-notifications")):
            found.add("queue-no-workers")
        if not live.worker_alive("py-emails"):
            found.add("worker-restarting")
        if _stopped(live.pid_of("node-imports")):
            found.add("queue-stalled")
        return frozenset(found)


def _stopped(pid: int | None) -> bool:
    """The process is stopped (SIGSTOP): state T in /proc."""
    if pid is None:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "T"
