"""The sandbox's trickle producer: a job every few seconds on the busy queues (`python -m` it).

It stands in for app-api enqueueing work; Redis restarts and refusals are waited out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from typing import Any

from verify.sandbox.queues.jobs import TRICKLED, Producer

INTERVAL_S = 2.0


async def trickle(options: dict[str, Any], interval_s: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    producer = Producer(options)
    count = 0
    print("producer ready", flush=True)
    while not stop.is_set():
        for queue in TRICKLED:
            try:
                await producer.add(queue, "process", {"n": count})
            except Exception as exc:  # Redis down or refusing: the next tick tries again
                print(f"producer: {queue}: {type(exc).__name__}", flush=True)
                await producer.close()
                break
        count += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
    await producer.close()


def main() -> int:
    config = json.loads(sys.stdin.read())
    asyncio.run(trickle(config["connection"], float(config.get("interval_s", INTERVAL_S))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
