"""BullMQ probe time and Redis round trips for 1, 20 and 200 queues (expected: one round trip).

Starts its own redis-server (TLS, ACL, the sandbox's settings) on a free loopback port, fills
every queue with jobs through the real Python BullMQ producer (waiting, prioritized, delayed,
completed history), then observes all of them RUNS times with the probe verify runs, and prints
per size: median and max probe time, round trips per observation (writes on the connection),
commands Redis processed per observation, and the round trips of the connection's setup.

    python bench/queues.py [--runs 20] [--jobs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

SIZES = (1, 20, 200)


def start_redis(directory: Path) -> tuple[Any, int, dict[str, str]]:
    from verify.sandbox import tlsca
    from verify.sandbox.queues import server
    from verify.sandbox.queues.server import ADMIN_USER, APP_USER, WORKER_USER, RedisConfig

    tls = tlsca.make(directory / "tls")
    passwords = {u: secrets.token_urlsafe(24) for u in (APP_USER, WORKER_USER, ADMIN_USER)}
    config = RedisConfig(
        server.free_port(), str(tls.ca), str(tls.cert), str(tls.key), str(directory)
    )
    server.write_config(config, passwords)
    return config, server.start(config), passwords


async def fill(options: dict[str, Any], queues: list[str], jobs: int) -> None:
    from verify.sandbox.queues.jobs import Producer

    producer = Producer(options)
    try:
        for name in queues:
            batch = [("job", {"n": n}, {"priority": 3} if n % 5 == 0 else {}) for n in range(jobs)]
            batch += [("later", {"n": n}, {"delay": 3_600_000}) for n in range(jobs // 4)]
            await producer.add_many(name, batch)
    finally:
        await producer.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=20, help="waiting jobs per queue")
    args = parser.parse_args()
    from verify.probes import bullmq
    from verify.probes.redisconn import RedisHandle, target_of
    from verify.sandbox.queues import server
    from verify.sandbox.queues.server import ADMIN_USER, APP_USER

    with tempfile.TemporaryDirectory(prefix="verify-bench-queues-") as tmp:
        config, pid, passwords = start_redis(Path(tmp))
        try:
            queues = [f"bench-{n:03d}" for n in range(max(SIZES))]
            asyncio.run(
                fill(config.client_options(APP_USER, passwords[APP_USER]), queues, args.jobs)
            )
            admin = server.admin(config, passwords[ADMIN_USER])
            print(
                f"redis-server {admin.info('server')['redis_version']} over TLS; {args.jobs} waiting "
                f"+ {args.jobs // 4} delayed jobs per queue; {args.runs} observations per size"
            )
            print(
                f"{'queues':>6} {'median ms':>10} {'max ms':>8} {'round trips':>12} "
                f"{'commands':>9} {'setup':>6}"
            )
            for size in SIZES:
                target = target_of(
                    f"rediss://127.0.0.1:{config.port}",
                    ca_file=config.ca,
                    verify_tls=True,
                    username=APP_USER,
                )
                handle = RedisHandle(target, passwords[APP_USER])
                limits = {q: bullmq.QueueLimits(300, 60) for q in queues[:size]}
                times, trips, commands = [], set(), set()
                setup_before = _commands(admin)
                handle.call([("PING",)], 5.0)  # connect: TLS handshake + AUTH
                setup = _commands(admin) - setup_before - 2  # less the PING and our INFO
                for _ in range(args.runs):
                    before_cmds, before_trips = _commands(admin), handle.round_trips
                    started = time.perf_counter()
                    obs = bullmq.observe(handle, "bull", limits, 100, 5.0)
                    times.append((time.perf_counter() - started) * 1000)
                    trips.add(handle.round_trips - before_trips)
                    commands.add(_commands(admin) - before_cmds - 1)  # less our own INFO
                    assert len(obs.queues) == size
                handle.close()
                print(
                    f"{size:>6} {statistics.median(times):>10.1f} {max(times):>8.1f} "
                    f"{'/'.join(map(str, sorted(trips))):>12} {'/'.join(map(str, sorted(commands))):>9} "
                    f"{setup:>6}"
                )
            admin.close()
        finally:
            server.stop(pid, config)
    return 0


def _commands(admin: Any) -> int:
    return int(admin.info("stats")["total_commands_processed"])


if __name__ == "__main__":
    raise SystemExit(main())
