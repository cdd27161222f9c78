"""The AWS process: moto in process (no port of its own), seeded, behind the overlay."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from verify.sandbox import readyfile

TICK_S = 1.0


def _phase(what: str, since: float) -> None:
    """A startup timing line in the process log."""
    sys.stderr.write(f"verify.sandbox.server: {what} at {time.monotonic() - since:.2f} s\n")


def main(argv: list[str] | None = None) -> int:
    """Start moto, seed it, serve the overlay until SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m verify.sandbox.server")
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--release", required=True)
    parser.add_argument("--previous-release", required=True)
    parser.add_argument("--latency-ms", type=int, default=0)
    args = parser.parse_args(argv)
    # Secrets and the token come on stdin so they never show in the process list.
    config = json.loads(sys.stdin.read() or "{}")
    secret_values: dict[str, str] = config["secret_values"]
    # moto's EC2 backend otherwise spends ~0.6 s loading AMIs the sandbox never uses.
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from verify.sandbox import seed, spec
    from verify.sandbox.motoapp import MotoApp, make_clients
    from verify.sandbox.overlay import OverlayServer
    from verify.sandbox.world import World

    started = time.monotonic()
    moto = MotoApp()
    moto.reset_transitions()
    clients = make_clients(moto)
    _phase("moto loaded, clients made", started)
    inv = seed.seed_network_and_alb(clients)
    _phase("network and ALB seeded (moto's EC2 backend loads on first use)", started)
    seed.seed_ecs(clients, inv, args.release, args.previous_release)
    seed.seed_alarms(clients)
    seed.seed_secrets(clients, secret_values)
    world = World(clients, inv, args.release, args.previous_release, secret_values, args.latency_ms)
    world.deploys.dir = args.dir
    world.deploys.write_api_release()  # a fresh sandbox runs its seeded release
    world.reconcile()
    _phase("ECS, alarms, secrets and tasks seeded", started)
    overlay = OverlayServer(world, moto, config["token"])
    threading.Thread(target=_ticker, args=(world,), name="verify-tick", daemon=True).start()
    # Everything lives in memory: on SIGTERM there is nothing to flush, so exit at once rather
    # than wait out the servers' shutdown polls.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    readyfile.write(
        args.dir / readyfile.AWS_READY,
        {
            "pid": os.getpid(),
            "aws_port": overlay.server_address[1],
            "seed_s": round(time.monotonic() - started, 3),
            "resources": {
                "cluster": spec.CLUSTER,
                "vpc_id": inv.vpc_id,
                "load_balancer_arn": inv.load_balancer_arn,
                "target_group_arn": inv.target_group_arn,
            },
        },
    )
    try:
        overlay.serve_forever()
    finally:
        overlay.server_close()
    return 0


def _ticker(world: object) -> None:
    """Extensions keep time-based fields fresh (LatestRestorableTime, metrics)."""
    while True:
        time.sleep(TICK_S)
        try:
            world.tick()  # type: ignore[attr-defined]
        except Exception as exc:  # a tick bug must not end the AWS process
            sys.stderr.write(f"verify.sandbox.server: tick failed: {type(exc).__name__}: {exc}\n")


if __name__ == "__main__":
    sys.exit(main())
