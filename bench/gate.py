"""The deploy gate's two figures on a sandbox of its own (parts aws and api):

1. convergence -> PASS: `verify sandbox deploy --release R --converge-after S`, then at once
   `pytest --env=local -m smoke --release R --settle 120`; the time from the moment R's tasks run
   to the verdict's PASS (goal <= 2.5 s; the stock ECS waiter polls every 15 s).
2. FAIL -> re-verified PASS: a `--bad` deploy, the gate with `--rollback=auto` (ECS hook), the
   time from the FAIL verdict to the re-verification's PASS verdict.

    python bench/gate.py [--runs 3] [--converge-after 6]
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
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CORE = "not frontends and not queues and not redis and not db and not rds"
ROLLBACK = """
[environments.local.rollback]
mode = "auto"

[[environments.local.rollback.hooks]]
type = "ecs-previous-task-definition"
timeout_s = 60
"""


def environments(directory: Path) -> Path:
    from tests.actions.envs import local_core

    path = directory / "environments.toml"
    path.write_text(local_core() + ROLLBACK)
    return path


def gate(envfile: Path, reports: Path, release: str, *extra: str) -> dict[str, object]:
    """One gate run in a fresh process; its verdict.json."""
    subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "-q",
         "--env=local", f"--environments={envfile}", "-m", "smoke", "-k", CORE,
         f"--release={release}", f"--reports-dir={reports}", *extra],
        cwd=REPO, capture_output=True, check=False, timeout=600,
    )  # fmt: skip
    verdict: dict[str, object] = json.loads((reports / "verdict.json").read_text())
    return verdict


def at(stamp: object) -> float:
    return datetime.fromisoformat(str(stamp)).timestamp()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--converge-after", type=float, default=6.0)
    args = parser.parse_args()
    from verify import sandbox
    from verify.sandbox import deploy

    with tempfile.TemporaryDirectory(prefix="verify-bench-gate-") as tmp:
        root = Path(tmp)
        box = root / "sandbox"
        os.environ["VERIFY_SANDBOX_DIR"] = str(box)
        started = time.monotonic()
        sandbox.up(box, parts=["aws", "api"])
        print(f"sandbox up (aws, api): {time.monotonic() - started:.2f} s")
        envfile = environments(root)
        converge: list[float] = []
        verdicts: list[str] = []
        rollback: list[float] = []
        total: list[float] = []
        try:
            for i in range(args.runs):
                release = f"2026.12.06-{10 + i}"
                answer = deploy.deploy(box, release, converge_after=args.converge_after)
                converged = float(answer["converge_at"])  # when R's tasks run (server's clock)
                verdict = gate(envfile, root / f"c{i}", release, "--settle=120", "--rollback=off")
                verdicts.append(str(verdict["verdict"]))
                converge.append(at(verdict["finished_at"]) - converged)
                deploy.reset(box)
            for i in range(args.runs):
                release = f"2026.12.06-{20 + i}"
                deploy.deploy(box, release, bad=True)
                t0 = time.time()
                verdict = gate(envfile, root / f"r{i}", release)
                second = json.loads((root / f"r{i}" / "reverify" / "verdict.json").read_text())
                verdicts.append(f"{verdict['verdict']}->{second['verdict']}")
                rollback.append(at(second["finished_at"]) - at(verdict["finished_at"]))
                total.append(at(second["finished_at"]) - t0)
                deploy.reset(box)
        finally:
            sandbox.down(box)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load}")
    print(f"verdicts: {', '.join(verdicts)}")
    print(
        f"convergence -> PASS (--settle 120, converge after {args.converge_after:g} s): "
        f"median {statistics.median(converge):.2f} s, max {max(converge):.2f} s "
        f"(n={len(converge)}; goal <= 2.5 s)"
    )
    print(
        f"FAIL verdict -> re-verified PASS (ECS rollback + a fresh smoke run): median "
        f"{statistics.median(rollback):.2f} s, max {max(rollback):.2f} s; whole gate from start "
        f"median {statistics.median(total):.2f} s (n={len(rollback)})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
