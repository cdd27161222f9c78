"""BullMQ queues, read-only, in one Redis round trip for all of them (no bullmq import).

One write carries an EVAL_RO of verify.probes.bullmq_lua (counts, oldest waiting job, overdue
delayed jobs, failures in the window, stalled jobs, on Redis's clock) and a CLIENT LIST (the
workers connected). Where CLIENT LIST is refused (managed Redis, a least-privilege user), the
workers are judged from BullMQ's own `stalled-check` key, which every live worker refreshes.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from verify.probes.bullmq_lua import FIELDS, SCRIPT
from verify.probes.errors import ProbeError
from verify.probes.redisconn import clean, text

if TYPE_CHECKING:
    from verify.probes.redisconn import RedisHandle


@dataclass(frozen=True)
class QueueLimits:
    """What the probe needs of a queue's thresholds (the checks read the rest)."""

    window_s: float  # completed/failed counted this far back
    grace_s: float  # a delayed job due longer ago than this is overdue


@dataclass(frozen=True)
class Workers:
    """Workers seen on a queue: how many, their names, and how they were found."""

    count: int
    names: tuple[str, ...]
    how: str  # "CLIENT LIST" | "stalled-check (CLIENT LIST refused: ...)"


@dataclass(frozen=True)
class QueueState:
    name: str
    known: bool  # the queue has keys at all (an unused or obliterated queue has none)
    paused: bool
    paused_how: str | None
    waiting: int  # wait + paused list + prioritized
    wait: int
    paused_list: int
    prioritized: int
    active: int
    delayed: int
    completed: int
    failed: int
    oldest_wait_s: float | None  # None: nothing waiting
    oldest_job: str | None
    scanned: int
    due_delayed: int
    overdue_delayed: int
    most_overdue_s: float | None  # how long ago the earliest delayed job became due
    next_delayed_in_s: float | None
    window_s: float
    grace_s: float
    completed_recent: int
    failed_recent: int
    last_completed_s: float | None  # seconds since the newest completed job finished
    stalled_now: int
    stalled_job: str | None
    stalled_set: int
    stalled_check_ttl_ms: int
    workers: Workers

    def evidence(self) -> list[str]:
        lines = [
            f"{self.name}: waiting {self.wait} + prioritized {self.prioritized} + paused list "
            f"{self.paused_list}, active {self.active}, delayed {self.delayed} (due {self.due_delayed}), "
            f"completed {self.completed}, failed {self.failed}",
            f"{self.name}: in the last {self.window_s:g} s completed {self.completed_recent}, failed "
            f"{self.failed_recent}; newest completion "
            + (
                f"{self.last_completed_s:.0f} s ago"
                if self.last_completed_s is not None
                else "never"
            ),
            f"{self.name}: workers {self.workers.count} via {self.workers.how}"
            + (f": {', '.join(self.workers.names)}" if self.workers.names else ""),
        ]
        if self.oldest_job:
            lines.append(
                f"{self.name}: oldest waiting job {self.oldest_job} ({self.scanned} scanned)"
            )
        return lines


@dataclass(frozen=True)
class QueuesObservation:
    url: str
    prefix: str
    now_ms: int
    queues: dict[str, QueueState]
    round_trips: int
    latency_ms: float
    notes: tuple[str, ...] = field(default=())


def commands(
    prefix: str, limits: Mapping[str, QueueLimits], scan_limit: int, read_only: bool = True
) -> list[tuple[Any, ...]]:
    """The one write: the script over every queue, then CLIENT LIST."""
    names = list(limits)
    argv: list[Any] = [scan_limit]
    for name in names:
        argv += [int(limits[name].window_s * 1000), int(limits[name].grace_s * 1000)]
    keys = [f"{prefix}:{name}" for name in names]
    script = ("EVAL_RO" if read_only else "EVAL", SCRIPT, len(keys), *keys, *argv)
    return [script, ("CLIENT", "LIST")]


def observe(
    handle: RedisHandle,
    prefix: str,
    limits: Mapping[str, QueueLimits],
    scan_limit: int,
    timeout_s: float,
) -> QueuesObservation:
    """Every queue in `limits`, in one round trip (two on a Redis without EVAL_RO)."""
    import time

    started = time.perf_counter()
    before = handle.round_trips
    notes: list[str] = []
    script, clients = handle.read(commands(prefix, limits, scan_limit), timeout_s, "queues")
    if isinstance(script, Exception) and "unknown command" in str(script).lower():
        notes.append("EVAL_RO unknown (Redis < 7): read with EVAL")
        script, clients = handle.read(
            commands(prefix, limits, scan_limit, read_only=False), timeout_s, "queues"
        )
    if isinstance(script, Exception):
        raise ProbeError(f"{handle.target.url} queues", f"script refused: {clean(script)}")
    latency_ms = (time.perf_counter() - started) * 1000
    now_ms = int(script[0])
    refused = clean(clients) if isinstance(clients, Exception) else None
    connected = [] if refused else parse_client_list(text(clients))
    queues = {}
    for name, row in zip(limits, script[1:], strict=True):
        queues[name] = _state(
            name,
            dict(zip(FIELDS, row, strict=True)),
            now_ms,
            limits[name],
            _workers(prefix, name, connected, refused, row),
        )
    return QueuesObservation(handle.target.url, prefix, now_ms, queues, handle.round_trips - before,
                             latency_ms, tuple(notes))  # fmt: skip


def _int(value: Any) -> int:
    return int(value) if not isinstance(value, bytes) else int(value.decode())


def _id(value: Any) -> str | None:
    found = text(value)
    return found or None


def _state(
    name: str, raw: dict[str, Any], now_ms: int, limits: QueueLimits, workers: Workers
) -> QueueState:
    def ago(ms: int) -> float | None:
        return None if ms < 0 else max(now_ms - ms, 0) / 1000

    oldest_ms, first_ms = _int(raw["oldest_ready_ms"]), _int(raw["first_delayed_ms"])
    meta_paused, paused_list = _int(raw["meta_paused"]) == 1, _int(raw["paused_list"])
    how = "meta.paused" if meta_paused else None
    if paused_list and not meta_paused:
        how = "jobs in the v5 paused list"
    due = _int(raw["due"])
    return QueueState(
        name=name,
        known=_int(raw["known"]) > 0,
        paused=meta_paused,
        paused_how=how,
        waiting=_int(raw["wait"]) + paused_list + _int(raw["prioritized"]),
        wait=_int(raw["wait"]),
        paused_list=paused_list,
        prioritized=_int(raw["prioritized"]),
        active=_int(raw["active"]),
        delayed=_int(raw["delayed"]),
        completed=_int(raw["completed"]),
        failed=_int(raw["failed"]),
        oldest_wait_s=ago(oldest_ms),
        oldest_job=_id(raw["oldest_job"]),
        scanned=_int(raw["scanned"]),
        due_delayed=due,
        overdue_delayed=_int(raw["overdue"]),
        most_overdue_s=ago(first_ms) if due and first_ms >= 0 else None,
        next_delayed_in_s=(first_ms - now_ms) / 1000
        if first_ms >= 0 and first_ms > now_ms
        else None,
        window_s=limits.window_s,
        grace_s=limits.grace_s,
        completed_recent=_int(raw["completed_recent"]),
        failed_recent=_int(raw["failed_recent"]),
        last_completed_s=ago(_int(raw["last_finished_ms"])),
        stalled_now=_int(raw["stalled_now"]),
        stalled_job=_id(raw["stalled_job"]),
        stalled_set=_int(raw["stalled_set"]),
        stalled_check_ttl_ms=_int(raw["stalled_check_ttl_ms"]),
        workers=workers,
    )


def parse_client_list(answer: str) -> list[dict[str, str]]:
    """CLIENT LIST lines as dicts (`name=... addr=...`)."""
    clients = []
    for line in answer.splitlines():
        fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
        if fields:
            clients.append(fields)
    return clients


def worker_names(prefix: str, queue: str) -> tuple[str, str]:
    """The CLIENT SETNAME of a worker of `queue`: Node base64-encodes the queue, Python does not."""
    node = f"{prefix}:{base64.b64encode(queue.encode()).decode()}"
    return node, f"{prefix}:{queue}"


def is_worker(name: str, prefix: str, queue: str) -> bool:
    """`<prefix>:<queue>` (an unnamed worker) or `<prefix>:<queue>:w:<worker name>`, in either spelling."""
    return any(
        name == base or name.startswith(base + ":w:") for base in worker_names(prefix, queue)
    )


def _workers(
    prefix: str,
    queue: str,
    clients: Sequence[Mapping[str, str]],
    refused: str | None,
    row: Sequence[Any],
) -> Workers:
    if refused is not None:
        ttl = _int(dict(zip(FIELDS, row, strict=True))["stalled_check_ttl_ms"])
        return Workers(1 if ttl > 0 else 0, (), f"stalled-check (CLIENT LIST refused: {refused})")
    # One worker may hold two named connections (Python: commands and blocking): count each
    # worker name once per client host.
    seen = {(c.get("name", ""), c.get("addr", "").rsplit(":", 1)[0]) for c in clients
            if is_worker(c.get("name", ""), prefix, queue)}  # fmt: skip
    return Workers(len(seen), tuple(sorted({name for name, _ in seen})), "CLIENT LIST")
