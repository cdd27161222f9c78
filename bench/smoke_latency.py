"""Smoke verdict wall time vs. its slowest probe, with >= 300 ms injected on every network call.

Starts a sandbox (AWS and the demo API) whose AWS endpoint and API answer every request after
LATENCY_MS, runs the smoke suite RUNS times and prints: wall time, slowest probe, sum of probe
durations, network calls and what a serial run would take, AWS API calls per run with 2 and with
10 ECS services, and the same run under pytest-xdist `-n 2` (wall time and AWS calls).

    python bench/smoke_latency.py [--latency-ms 300] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EXTRA_SECRETS = [f"/mobilytics/local/bench/secret-{n:02d}" for n in range(8)]
EXTRA_SERVICES = [f"bench-svc-{n}" for n in range(8)]

ENVIRONMENTS = """
[environments.{name}]
sandbox = true
aws = {{ region = "eu-west-1", endpoint_url = "sandbox:aws", account_id = "123456789012" }}
api = {{ base_url = "sandbox:api", verify_tls = false }}
alb = {{ target_groups = ["mobilytics-local-app-api"] }}
alarms = {{ prefix = "mobilytics-local-" }}
ecs = {{ cluster = "mobilytics-local", services = {{ {services} }} }}
secrets = {{ required = {secrets} }}
thresholds = {{ api_latency_ms = 2000 }}
"""


def environments_file(directory: Path) -> Path:
    base = '"app-api" = { min_tasks = 2 }, "bullmq-workers" = { min_tasks = 2 }'
    extra = ", ".join(f'"{name}" = {{ min_tasks = 0 }}' for name in EXTRA_SERVICES)
    secrets = [
        "/mobilytics/local/app-api/database-url",
        "/mobilytics/local/app-api/redis-auth",
        "/mobilytics/local/app-api/jwt-signing-key",
        "/mobilytics/local/bullmq-workers/redis-auth",
        *EXTRA_SECRETS,
    ]
    path = directory / "environments.toml"
    path.write_text(
        ENVIRONMENTS.format(name="bench", services=base, secrets=json.dumps(secrets))
        + ENVIRONMENTS.format(name="wide", services=f"{base}, {extra}", secrets=json.dumps(secrets))
    )
    return path


def seed_extras(state: Any) -> None:
    """More secrets (more concurrent probes) and idle services (AWS calls must not grow)."""
    from verify.sandbox.access import aws_client

    secrets = aws_client(state, "secretsmanager")
    for name in EXTRA_SECRETS:
        secrets.create_secret(Name=name, SecretString=os.urandom(16).hex())
    ecs = aws_client(state, "ecs")
    task_definition = ecs.list_task_definitions(familyPrefix="bullmq-workers")[
        "taskDefinitionArns"
    ][-1]
    for name in EXTRA_SERVICES:
        ecs.create_service(
            cluster="mobilytics-local",
            serviceName=name,
            taskDefinition=task_definition,
            desiredCount=0,
            launchType="FARGATE",
        )


def run_smoke(
    env: str, envfile: Path, release: str, reports: Path, sandbox: Path, *extra: str
) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        *extra,
        f"--env={env}",
        f"--environments={envfile}",
        "-m",
        "smoke",
        f"--release={release}",
        f"--reports-dir={reports}",
    ]
    started = time.perf_counter()
    proc = subprocess.run(
        command,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "VERIFY_SANDBOX_DIR": str(sandbox)},
    )
    process_wall = time.perf_counter() - started
    verdict: dict[str, Any] = json.loads((reports / "verdict.json").read_text())
    verdict["process_wall_s"] = process_wall
    if verdict["verdict"] != "pass":
        print(proc.stdout[-3000:], file=sys.stderr)
    return verdict


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from verify import sandbox

    with tempfile.TemporaryDirectory(prefix="verify-bench-") as tmp:
        directory = Path(tmp)
        parts = ["aws", "api"]
        state = sandbox.up(directory / "sandbox", parts=parts, progress=lambda line: None)
        try:
            seed_extras(state)
            sandbox.up(
                directory / "sandbox",
                parts=parts,
                latency_ms=args.latency_ms,
                progress=lambda line: None,
            )
            envfile = environments_file(directory)
            runs = [
                run_smoke(
                    "bench", envfile, state.release, directory / f"r{i}", directory / "sandbox"
                )
                for i in range(args.runs)
            ]
            wide = run_smoke(
                "wide", envfile, state.release, directory / "wide", directory / "sandbox"
            )
            spread = run_smoke(
                "bench",
                envfile,
                state.release,
                directory / "xdist",
                directory / "sandbox",
                "-n",
                "2",
            )
        finally:
            sandbox.down(directory / "sandbox")
    report(runs, wide, spread, args.latency_ms)
    return 0


def report(
    runs: list[dict[str, Any]], wide: dict[str, Any], spread: dict[str, Any], latency_ms: int
) -> None:
    walls = [r["duration_s"] for r in runs]
    median = runs[walls.index(statistics.median_low(walls))]
    probes = median["probes"]
    slowest = max(probes, key=lambda p: p["duration_s"])
    probe_sum = sum(p["duration_s"] for p in probes)
    network_calls = median["aws_calls"] + 2  # + the API's /health and /version
    wall = median["duration_s"]
    budget = 1.3 * slowest["duration_s"] + 1.5
    verdict = "met" if wall <= budget else "MISSED"
    rows = [
        ("injected latency per network call", f"{latency_ms} ms"),
        (
            "verdicts",
            ", ".join(r["verdict"].upper() for r in runs) + f"; wide: {wide['verdict'].upper()}",
        ),
        ("checks run", str(sum(c["status"] != "skipped" for c in median["checks"]))),
        ("probes (concurrent)", str(len(probes))),
        (
            "network calls per run",
            f"{network_calls} (serial: >= {network_calls * latency_ms / 1000:.1f} s)",
        ),
        ("slowest probe", f"{slowest['duration_s']:.2f} s ({slowest['key']})"),
        ("sum of probe durations", f"{probe_sum:.2f} s"),
        (
            "verdict wall time (median)",
            f"{wall:.2f} s (runs: {', '.join(f'{w:.2f}' for w in walls)})",
        ),
        (
            "process wall time (median run)",
            f"{median['process_wall_s']:.2f} s (Python + pytest start)",
        ),
        ("wall / slowest probe", f"{wall / slowest['duration_s']:.2f}"),
        ("wall / sum of probes", f"{wall / probe_sum:.2f}"),
        ("target: wall <= 1.3 x slowest + 1.5 s", f"{wall:.2f} <= {budget:.2f}: " + verdict),
        ("AWS API calls, 2 ECS services", str(median["aws_calls"])),
        ("AWS API calls, 10 ECS services", str(wide["aws_calls"])),
        (
            "with -n 2: verdict wall, AWS calls",
            f"{spread['duration_s']:.2f} s ({spread['verdict'].upper()}), {spread['aws_calls']}",
        ),
        ("with -n 2: process wall time", f"{spread['process_wall_s']:.2f} s (+ worker start)"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    sys.exit(main())
