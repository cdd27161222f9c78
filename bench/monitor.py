"""`verify monitor` memory and CPU per iteration at --interval 0 against the sandbox.

Starts its own sandbox (the core parts: AWS and the API), runs `verify monitor --env=local
--interval 0 --iterations N` on the core components with PutMetricData into the sandbox's
CloudWatch, and samples the monitor process after every iteration (a new line in its history):
its RSS, its own CPU time, and the CPU time of its finished iteration runs. Prints the RSS at the
first and the last iteration, the growth, the max, and per-iteration wall and CPU figures.
Goal: RSS flat (< 10 MB growth over 1,000 iterations).

    python bench/monitor.py [--iterations 1000] [--max-s SECONDS] [--keep-samples FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENV = """
[environments.local]
sandbox = true
release_from = "sandbox"
aws = { region = "eu-west-1", endpoint_url = "sandbox:aws", account_id = "123456789012" }
api = { base_url = "sandbox:api", verify_tls = false }
alb = { target_groups = ["mobilytics-local-app-api"] }
alarms = { prefix = "mobilytics-local-" }
monitor = { metrics = "put_metric_data" }

[environments.local.ecs]
cluster = "mobilytics-local"
services = { app-api = { min_tasks = 2 }, bullmq-workers = { min_tasks = 2 } }

[environments.local.secrets]
required = ["/mobilytics/local/app-api/redis-auth"]
"""
CLOCK = os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_s(pid: int) -> tuple[float, float]:
    """(own user+system, waited-for children's user+system) in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / CLOCK
    children = (int(fields[13]) + int(fields[14])) / CLOCK
    return own, children


def lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--keep-samples", type=Path, help="write every sample as JSON here")
    parser.add_argument(
        "--max-s", type=float, default=None, help="stop (SIGTERM the monitor) after this long"
    )
    args = parser.parse_args()
    from verify import sandbox

    with tempfile.TemporaryDirectory(prefix="verify-bench-monitor-") as tmp:
        work = Path(tmp)
        envfile = work / "environments.toml"
        envfile.write_text(ENV)
        sandbox.up(work / "sandbox", parts=["aws", "api"])
        environ = {k: v for k, v in os.environ.items() if not k.startswith("VERIFY_")}
        environ["VERIFY_SANDBOX_DIR"] = str(work / "sandbox")
        history = work / "reports" / "monitor" / "local" / "history.jsonl"
        command = [
            sys.executable, "-m", "verify.cli", "monitor", "--env=local",
            f"--environments={envfile}", f"--reports-dir={work / 'reports'}",
            "--interval=0", f"--iterations={args.iterations}",
        ]  # fmt: skip
        samples: list[dict[str, float]] = []
        started = time.monotonic()
        try:
            proc = subprocess.Popen(
                command, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            seen = 0
            stopping = False
            while proc.poll() is None:
                late = args.max_s is not None and time.monotonic() - started > args.max_s
                if late and not stopping:
                    # The monitor's own clean stop: the iteration under way finishes first.
                    proc.send_signal(signal.SIGTERM)
                    stopping = True
                count = lines(history)
                if count > seen:
                    seen = count
                    own, children = cpu_s(proc.pid)
                    samples.append(
                        {
                            "iteration": count,
                            "t": time.monotonic() - started,
                            "rss_kib": rss_kib(proc.pid),
                            "cpu_own_s": own,
                            "cpu_runs_s": children,
                        }
                    )
                time.sleep(0.02)
            wall = time.monotonic() - started
        finally:
            sandbox.down(work / "sandbox")
        records = [json.loads(line) for line in history.read_text().splitlines()]
    report(samples, records, wall, proc.returncode)
    if args.keep_samples:
        args.keep_samples.write_text(json.dumps(samples))
    return 0


def report(
    samples: list[dict[str, float]], records: list[dict[str, object]], wall: float, code: int
) -> None:
    if len(samples) < 2:
        print(f"too few iterations sampled ({len(samples)}); monitor exit {code}")
        return
    first, last = samples[0], samples[-1]
    rss = [s["rss_kib"] for s in samples]
    steps = len(samples) - 1
    verdicts = {v: sum(r["verdict"] == v for r in records) for v in ("pass", "fail", "error")}
    # After the first few iterations: imports done, pools warm.
    settled = samples[min(10, steps)]
    print(f"iterations            {len(records)} (monitor exit {code}), verdicts {verdicts}")
    print(f"wall                  {wall:.0f} s, {wall / len(records):.2f} s per iteration")
    print(
        f"monitor RSS           first {first['rss_kib'] / 1024:.1f} MiB, after 10 "
        f"{settled['rss_kib'] / 1024:.1f} MiB, last {last['rss_kib'] / 1024:.1f} MiB, "
        f"max {max(rss) / 1024:.1f} MiB"
    )
    print(
        f"RSS growth            {(last['rss_kib'] - first['rss_kib']) / 1024:+.2f} MiB over "
        f"the run, {(last['rss_kib'] - settled['rss_kib']) / 1024:+.2f} MiB after iteration 10"
    )
    own = (last["cpu_own_s"] - first["cpu_own_s"]) / steps
    runs = (last["cpu_runs_s"] - first["cpu_runs_s"]) / steps
    print(
        f"CPU per iteration     monitor {own * 1000:.0f} ms, the iteration's run {runs * 1000:.0f} ms"
    )
    durations = [float(str(r["duration_s"])) for r in records]
    print(f"iteration run time    median {statistics.median(durations):.2f} s, "
          f"max {max(durations):.2f} s")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
