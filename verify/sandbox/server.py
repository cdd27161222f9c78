"""The AWS process: moto on a free loopback port, seeded, behind the overlay on another."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path

from verify.sandbox import readyfile


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
    # Secret values come on stdin so they never show in the process list.
    config = json.loads(sys.stdin.read() or "{}")
    secret_values: dict[str, str] = config["secret_values"]
    # moto's EC2 backend otherwise spends ~0.6 s loading AMIs the sandbox never uses.
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from moto.server import ThreadedMotoServer

    from verify.sandbox import backend, seed, spec
    from verify.sandbox.overlay import OverlayServer
    from verify.sandbox.world import World

    started = time.monotonic()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    moto_port = moto.get_host_and_port()[1]
    moto_url = f"http://127.0.0.1:{moto_port}"
    backend.pin_task_transitions(moto_url)
    clients = backend.make_clients(moto_url)
    _phase("moto started, clients made", started)
    inv = seed.seed_network_and_alb(clients)
    _phase("network and ALB seeded (moto's EC2 backend loads on first use)", started)
    seed.seed_ecs(clients, inv, args.release, args.previous_release)
    seed.seed_alarms(clients)
    seed.seed_secrets(clients, secret_values)
    world = World(clients, inv, args.release, args.previous_release, secret_values, args.latency_ms)
    world.reconcile()
    _phase("ECS, alarms, secrets and tasks seeded", started)
    overlay = OverlayServer(world, moto_port)
    # Everything lives in memory: on SIGTERM there is nothing to flush, so exit at once rather
    # than wait out the servers' shutdown polls.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    readyfile.write(
        args.dir / readyfile.AWS_READY,
        {
            "pid": os.getpid(),
            "aws_port": overlay.server_address[1],
            "moto_port": moto_port,
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
        moto.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
