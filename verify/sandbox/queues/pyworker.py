"""The sandbox's Python BullMQ worker: one queue per process (`python -m` it; config on stdin).

It honours the same contract as the Node worker (node/worker.cjs): `verify-canary` completes at
once with no side effect; `fail` fails on purpose; `hold` waits while the hold key exists.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from typing import Any

HOLD_PREFIX = "verify-sandbox:hold:"


async def run(config: dict[str, Any]) -> None:
    import redis.asyncio as aioredis
    from bullmq import Worker  # type: ignore[import-untyped]

    options = config["connection"]
    queue = config["queue"]
    side = aioredis.Redis(**options, decode_responses=True)

    async def process(job: Any, token: str) -> Any:
        if job.name == "verify-canary":
            return {"canary": True}
        if job.name == "fail":
            raise RuntimeError("sandbox: this job fails on purpose")
        if job.name == "hold":
            until = time.monotonic() + float((job.data or {}).get("max_s", 600))
            while time.monotonic() < until and await side.exists(HOLD_PREFIX + queue):
                await asyncio.sleep(0.1)
            return {"held": True}
        work_ms = (job.data or {}).get("work_ms") if isinstance(job.data, dict) else None
        if work_ms:
            await asyncio.sleep(work_ms / 1000)
        return {"ok": True}

    worker = Worker(
        queue,
        process,
        {
            "connection": options,
            "prefix": config["prefix"],
            "name": config["name"],
            "concurrency": config.get("concurrency", 1),
            "lockDuration": config["lockDuration"],
            "stalledInterval": config["stalledInterval"],
            "maxStalledCount": 1,
            "drainDelay": 1,
        },
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"worker {config['name']} ready on {queue}", flush=True)
    await stop.wait()
    await worker.close()
    await side.aclose()


def main() -> int:
    config = json.loads(sys.stdin.read())
    asyncio.run(run(config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
