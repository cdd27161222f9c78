"""The deploy gate inside a pytest run: after verdict.json, run the hooks and re-verify."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verify.actions.base import HookContext
from verify.actions.runner import run_hooks

if TYPE_CHECKING:
    import pytest

    from verify.run import Run
    from verify.verdict import Verdict

# Options the re-verification sets itself (the release it restored, no second rollback, its dir).
OWN_OPTIONS = (
    "--release",
    "--rollback",
    "--reports-dir",
    "--codedeploy-deployment-id",
    "--codedeploy-hook-execution-id",
)
REVERIFY_DIR = "reverify"


def rerun_args(args: list[str], reports: Path, release: str | None) -> list[str]:
    """The run's own arguments without OWN_OPTIONS, plus the re-verification's."""
    kept: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in OWN_OPTIONS:
            skip = True
            continue
        if arg.startswith(tuple(f"{o}=" for o in OWN_OPTIONS)):
            continue
        kept.append(arg)
    kept += ["--rollback=off", f"--reports-dir={reports}"]
    if release:
        kept.append(f"--release={release}")
    return kept


def reverify(config: pytest.Config, run: Run, release: str | None) -> dict[str, Any]:
    """Run the same selection again in a fresh process; its verdict, summarised."""
    reports = run.reports_dir / REVERIFY_DIR
    args = rerun_args(list(config.invocation_params.args), reports, release)
    env = {k: v for k, v in os.environ.items() if k != "VERIFY_RELEASE"}
    if run.sandbox_dir:
        env["VERIFY_SANDBOX_DIR"] = run.sandbox_dir
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
            cwd=config.invocation_params.dir,
            env=env,
            capture_output=True,
            timeout=run.env.thresholds.run_deadline_s + 30,
            check=False,
        )
        code: int | None = done.returncode
    except subprocess.TimeoutExpired:
        code = None
    took = time.monotonic() - started
    try:
        second = json.loads((reports / "verdict.json").read_text())
    except (OSError, ValueError):
        second = {"verdict": "error", "reason": "the re-verification wrote no verdict"}
    if code is None:
        second = {"verdict": "error", "reason": "the re-verification did not finish in time"}
    return {
        "verdict": second.get("verdict"),
        "reason": second.get("reason"),
        "exit_code": code,
        "release": release or second.get("release"),
        "counts": second.get("counts"),
        "failed": [
            c["id"]
            for c in second.get("checks", [])
            if c.get("status") != "passed" and c.get("status") != "skipped"
        ],
        "duration_s": round(took, 3),
        "report": str(reports / "verdict.json"),
    }


def after_verdict(config: pytest.Config, run: Run, verdict: Verdict) -> dict[str, Any]:
    """The rollback section of verdict.json, once the hooks ran (controller only)."""
    from verify.clients import AwsClients

    key_id, secret = run.aws_keys
    # Its own clients: the run's stop at the run deadline, the hooks have their own timeouts.
    aws = AwsClients(
        run.env, access_key_id=key_id, secret_access_key=secret, sandbox_token=run.sandbox_token
    )
    option = config.option
    ctx = HookContext(
        env=run.env,
        outcome=verdict.outcome,
        reason=verdict.reason,
        release=verdict.release,
        verdict_path=run.reports_dir / "verdict.json",
        dry_run=False,
        aws=aws,
        ends=time.monotonic(),
        poll_s=run.env.thresholds.settle_poll_s,
        codedeploy_ids=(
            getattr(option, "verify_codedeploy_deployment_id", None),
            getattr(option, "verify_codedeploy_hook_execution_id", None),
        ),
    )
    return run_hooks(run.rollback_mode, ctx, lambda release: reverify(config, run, release))
