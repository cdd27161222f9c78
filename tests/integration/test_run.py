"""Whole runs against the sandbox: PASS, reports, xdist, settle, the sandbox's own lifecycle."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import REPO, SMOKE_CHECKS, VerifyRun, run_pytest


def smoke(run_verify: Callable[..., VerifyRun], state: Any, *args: str, **kw: Any) -> VerifyRun:
    return run_verify("--env=local", "-m", "smoke", f"--release={state.release}", *args, **kw)


def test_healthy_sandbox_passes_with_reports(
    run_verify: Callable[..., VerifyRun],
    sandbox_state: Any,
    sandbox_secrets: dict[str, str],
    tmp_path: Path,
) -> None:
    summary = tmp_path / "step-summary.md"
    run = smoke(
        run_verify,
        sandbox_state,
        f"--alluredir={tmp_path / 'allure'}",
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert run.exit_code == 0, run.output
    assert run.verdict is not None and run.outcome == "pass"
    assert run.verdict["schema_version"] == 1
    assert run.verdict["counts"]["passed"] >= 10
    assert run.verdict["counts"]["failed"] == run.verdict["counts"]["error"] == 0
    assert run.verdict["release"] == sandbox_state.release
    assert run.verdict["rollback"] == {"mode": "off", "triggered": False, "hooks": []}
    assert run.ids("passed") == SMOKE_CHECKS
    alarms = run.check("alarms.none_firing")
    assert alarms["message"] == "INSUFFICIENT_DATA: mobilytics-local-rds-replica-lag"
    assert run.check("ecs.service_stable[app-api]")["observed"]["running"] == 2
    lines = run.stdout.strip().splitlines()
    assert any(
        line.startswith("VERDICT: PASS env=local checks=13 failed=0 error=0 skipped=0 in ")
        for line in lines[-3:]
    ), lines[-3:]
    assert (
        f"verify: env=local region=eu-west-1 account=123456789012 release={sandbox_state.release}"
        in run.stdout
    )
    junit = ET.parse(run.reports / "junit.xml").getroot()
    assert len(junit.findall(".//testcase")) == 13
    assert len(list((tmp_path / "allure").glob("*-result.json"))) == 13
    assert list((tmp_path / "allure").glob("*-attachment.json"))  # observed vs expected
    assert "✅ verify: PASS on `local`" in summary.read_text()
    for value in sandbox_secrets.values():
        assert value not in run.output
        assert value not in (run.reports / "verdict.json").read_text()


def test_xdist_builds_one_verdict_on_the_controller(
    run_verify: Callable[..., VerifyRun], sandbox_state: Any
) -> None:
    run = smoke(run_verify, sandbox_state, "-n", "2")
    assert run.exit_code == 0, run.output
    assert run.outcome == "pass"
    assert len(run.verdict["checks"]) == len(SMOKE_CHECKS)  # type: ignore[index]
    assert run.stdout.count("VERDICT: PASS") == 1


def test_xdist_fail_is_fail(
    run_verify: Callable[..., VerifyRun], sandbox_state: Any, broken: Callable[[str], None]
) -> None:
    broken("alarm-firing")
    run = smoke(run_verify, sandbox_state, "-n", "2")
    assert run.outcome == "fail" and run.exit_code == 1
    assert run.ids("failed") == {"alarms.none_firing"}


def test_settle_waits_for_the_deploy_to_converge(
    run_verify: Callable[..., VerifyRun],
    sandbox_state: Any,
    sandbox_dir: Path,
    broken: Callable[[str], None],
) -> None:
    from verify import sandbox

    broken("ecs-under-replicated")
    healer = threading.Timer(3.0, sandbox.heal, args=(sandbox_dir, "ecs-under-replicated"))
    healer.start()
    try:
        run = smoke(run_verify, sandbox_state, "--settle=60")
    finally:
        healer.join()
    assert run.outcome == "pass", run.output
    stable = run.check("ecs.service_stable[app-api]")
    assert stable["status"] == "passed" and stable["attempts"] > 1 and stable["flaky"] is True
    assert run.verdict["counts"]["flaky"] >= 1  # type: ignore[index]


def test_settle_gives_up_at_the_deadline(
    run_verify: Callable[..., VerifyRun], sandbox_state: Any, broken: Callable[[str], None]
) -> None:
    broken("ecs-under-replicated")
    run = smoke(run_verify, sandbox_state, "--settle=6")
    assert run.outcome == "fail"
    stable = run.check("ecs.service_stable[app-api]")
    assert stable["status"] == "failed" and stable["attempts"] >= 2


def test_local_starts_a_sandbox_when_none_is_up_and_stops_it(tmp_path: Path) -> None:
    from verify import sandbox

    directory = tmp_path / "fresh-sandbox"
    run = run_pytest(
        "--env=local",
        "-m",
        "smoke",
        reports=tmp_path / "reports",
        env={"VERIFY_SANDBOX_DIR": str(directory)},
    )
    assert run.outcome == "pass", run.output
    assert "verify: starting the sandbox in" in run.stderr
    assert sandbox.load_state(directory) is None
    assert run.check("api.version")["message"] == "no --release given: nothing to compare against"


def test_verify_run_command(sandbox_dir: Path, sandbox_state: Any, tmp_path: Path) -> None:
    env = {**os.environ, "VERIFY_SANDBOX_DIR": str(sandbox_dir)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "verify.cli",
            "run",
            "--env=local",
            f"--release={sandbox_state.release}",
            f"--reports-dir={tmp_path}",
            "-p",
            "no:cacheprovider",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "VERDICT: PASS env=local" in proc.stdout
