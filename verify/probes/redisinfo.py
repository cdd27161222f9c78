"""Redis itself: reachable over TLS with AUTH, its role, memory against maxmemory, evictions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from verify.probes.errors import ProbeError
from verify.probes.redisconn import Unreachable, clean, text

if TYPE_CHECKING:
    from verify.probes.redisconn import RedisHandle


@dataclass(frozen=True)
class RedisObservation:
    url: str
    tls: bool
    user: str | None
    unreachable: str | None  # Redis refused us at its door (connection, AUTH): FAIL
    latency_ms: float
    version: str | None = None
    role: str | None = None
    used_memory: int = 0
    maxmemory: int = 0
    total_system_memory: int = 0
    maxmemory_policy: str | None = None
    evicted_keys: int = 0
    connected_clients: int = 0

    @property
    def memory_limit(self) -> int:
        """maxmemory, or the machine's memory when none is set (0 = unlimited)."""
        return self.maxmemory or self.total_system_memory

    @property
    def memory_ratio(self) -> float | None:
        return self.used_memory / self.memory_limit if self.memory_limit else None

    def evidence(self) -> list[str]:
        if self.unreachable:
            return [f"{self.url} as {self.user or 'default'}: {self.unreachable}"]
        return [
            f"{self.url} (TLS {'on' if self.tls else 'off'}, user {self.user or 'default'}): Redis "
            f"{self.version} {self.role}, {self.connected_clients} clients",
            f"memory {self.used_memory} of maxmemory {self.maxmemory} "
            f"(policy {self.maxmemory_policy}); evicted keys {self.evicted_keys}",
        ]


def parse_info(answer: str) -> dict[str, str]:
    found = {}
    for line in answer.splitlines():
        if ":" in line and not line.startswith("#"):
            key, _, value = line.partition(":")
            found[key.strip()] = value.strip()
    return found


def observe(handle: RedisHandle, timeout_s: float) -> RedisObservation:
    """One INFO (default sections: server, clients, memory, stats, replication)."""
    import time

    target = handle.target
    started = time.perf_counter()
    try:
        (answer,) = handle.call([("INFO",)], timeout_s)
    except Unreachable as refused:
        latency = (time.perf_counter() - started) * 1000
        return RedisObservation(target.url, target.tls, target.username, str(refused), latency)
    latency = (time.perf_counter() - started) * 1000
    if isinstance(answer, Exception):
        raise ProbeError(target.url, f"INFO refused: {clean(answer)}")
    info = parse_info(text(answer))

    def number(key: str) -> int:
        try:
            return int(info.get(key, "0"))
        except ValueError:
            return 0

    return RedisObservation(
        url=target.url,
        tls=target.tls,
        user=target.username,
        unreachable=None,
        latency_ms=latency,
        version=info.get("redis_version"),
        role=info.get("role"),
        used_memory=number("used_memory"),
        maxmemory=number("maxmemory"),
        total_system_memory=number("total_system_memory"),
        maxmemory_policy=info.get("maxmemory_policy"),
        evicted_keys=number("evicted_keys"),
        connected_clients=number("connected_clients"),
    )
