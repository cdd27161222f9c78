"""Jobs on the sandbox's queues, through the real Python BullMQ producer API (sandbox extra)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

PREFIX = "bull"
QUEUES = ("emails", "imports", "notifications", "mirror-refresh")
TRICKLED = ("emails", "imports", "notifications")  # mirror-refresh runs rarely: often idle
HOLD_PREFIX = "verify-sandbox:hold:"  # workers stay busy on `hold` jobs while this key exists
# What the platform's producers ask for: history kept, bounded (completed and failed are not backlog).
KEEP = {"removeOnComplete": {"count": 200}, "removeOnFail": {"count": 500}}
T = TypeVar("T")


class Producer:
    """BullMQ Queue objects (one per queue name) on one connection's options."""

    def __init__(self, options: dict[str, Any], prefix: str = PREFIX) -> None:
        self.options = options
        self.prefix = prefix
        self._queues: dict[str, Any] = {}

    def queue(self, name: str) -> Any:
        from bullmq import Queue  # type: ignore[import-untyped]

        if name not in self._queues:
            self._queues[name] = Queue(
                name, {"connection": dict(self.options), "prefix": self.prefix}
            )
        return self._queues[name]

    async def add(
        self, queue: str, name: str, data: dict[str, Any] | None = None, **opts: Any
    ) -> str:
        job = await self.queue(queue).add(name, data or {}, {**KEEP, **opts})
        return str(job.id)

    async def add_many(
        self, queue: str, jobs: Iterable[tuple[str, dict[str, Any], dict[str, Any]]]
    ) -> list[str]:
        batch = [{"name": n, "data": d, "opts": {**KEEP, **o}} for n, d, o in jobs]
        added = await self.queue(queue).addBulk(batch)
        return [str(job.id) for job in added]

    async def close(self) -> None:
        for queue in self._queues.values():
            await queue.close()
        self._queues.clear()


def run(options: dict[str, Any], work: Callable[[Producer], Awaitable[T]]) -> T:
    """Run `work(producer)` on a fresh event loop and close the producer after."""

    async def main() -> T:
        producer = Producer(options)
        try:
            return await work(producer)
        finally:
            await producer.close()

    return asyncio.run(main())


async def seed(producer: Producer, now_ms: int) -> None:
    """The platform's queues after a while of normal traffic: history, a few failures, reminders."""
    for queue in QUEUES:
        await producer.add_many(queue, [("process", {"n": n}, {}) for n in range(8)])
    await producer.add_many("emails", [("fail", {"n": n}, {"attempts": 1}) for n in range(2)])
    # Reminders an hour ahead: delayed into the future is not backlog.
    await producer.add_many(
        "notifications", [("reminder", {"n": n}, {"delay": 3_600_000}) for n in range(3)]
    )
    del now_ms
