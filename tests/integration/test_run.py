"""Whole runs against the sandbox: PASS and its reports, xdist, settle, release, the local link."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import (
    CORE_CHECKS,
    CORE_ONLY,
    REPO,
    VerifyRun,
    finished,
    run_with_environments,
    subprocess_command,
)


def smoke(run_verify: Callable[..., VerifyRun], *args: str, **kw: Any) -> VerifyRun:
    """The core components' smoke checks against the session sandbox."""
    return run_verify("--env=local", "-m", "smoke", *CORE_ONLY, *args, **kw)


def test_healthy_sandbox_passes_with_reports(
    run_verify: Callable[..., VerifyRun],
    sandbox_state: Any,
    sandbox_secrets: dict[str, str],
    tmp_path: Path,
) -> None:
    summary = tmp_path / "step-summary.md"
    allure_dir = tmp_path / "allure"
    # Every component, once: the whole local environment.
    run = run_verify(
        "--env=local",
        "-m",
        "smoke",
        f"--alluredir={allure_dir}",
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert run.exit_code == 0, run.output
    assert run.verdict is not None and run.outcome == "pass"
    assert run.verdict["schema_version"] == 1
    assert run.verdict["counts"]["failed"] == run.verdict["counts"]["error"] == 0
    # Without --release the local environment checks the release the sandbox runs.
    assert (run.verdict["release"], run.verdict["release_source"]) == (
        sandbox_state.release,
        "sandbox",
    )
    assert run.verdict["rollback"] == {"mode": "off", "triggered": False, "hooks": []}
    assert run.ids("passed") >= CORE_CHECKS
    assert set(run.verdict["expected"]) == {c["id"] for c in run.verdict["checks"]}
    assert (
        run.check("alarms.none_firing")["message"]
        == "INSUFFICIENT_DATA: mobilytics-local-rds-replica-lag"
    )
    assert run.check("ecs.service_stable[app-api]")["observed"]["running"] == 2
    total = len(run.verdict["checks"])
    last = run.stdout.strip().splitlines()[-2]
    assert last.startswith(
        f"VERDICT: PASS env=local checks={total} passed={total} failed=0 error=0 skipped=0 in "
    )
    assert f"verify: release {sandbox_state.release} (sandbox)" in run.stdout
    junit = ET.parse(run.reports / "junit.xml").getroot()
    assert {case.get("name") for case in junit.iter("testcase")} == {
        c["id"] for c in run.verdict["checks"]
    }
    results = [json.loads(p.read_text()) for p in allure_dir.glob("*-result.json")]
    assert {r["name"] for r in results} == {c["id"] for c in run.verdict["checks"]}
    assert list(allure_dir.glob("*-attachment.json"))  # observed vs expected
    assert "✅ verify: PASS on `local`" in summary.read_text()
    for value in sandbox_secrets.values():
        assert value not in run.output
        assert value not in (run.reports / "verdict.json").read_text()


def test_xdist_builds_one_verdict_and_makes_the_same_aws_calls(
    run_verify: Callable[..., VerifyRun],
) -> None:
    single = smoke(run_verify)
    spread = smoke(run_verify, "-n", "2")
    assert spread.exit_code == 0, spread.output
    assert spread.outcome == "pass"
    assert spread.stdout.count("VERDICT: PASS") == 1
    assert spread.verdict is not None and single.verdict is not None
    assert len(spread.verdict["checks"]) == len(single.verdict["checks"])
    # Checks of one component go to one worker: no probe runs twice.
    assert spread.verdict["aws_calls"] == single.verdict["aws_calls"] > 0
    assert sorted(p["key"] for p in spread.verdict["probes"]) == sorted(
        p["key"] for p in single.verdict["probes"]
    )


def test_xdist_fail_is_fail(
    run_verify: Callable[..., VerifyRun], broken: Callable[[str], None]
) -> None:
    broken("alarm-firing")
    run = smoke(run_verify, "-n", "2")
    assert run.outcome == "fail" and run.exit_code == 1
    assert run.ids("failed") == {"alarms.none_firing"}


def test_settle_waits_for_the_deploy_to_converge_and_says_so(
    tmp_path: Path, sandbox_dir: Path, broken: Callable[[str], None]
) -> None:
    from verify import sandbox

    broken("ecs-under-replicated")
    command, env = subprocess_command(
        "--env=local",
        "-m",
        "smoke",
        *CORE_ONLY,
        "--settle=120",
        reports=tmp_path,
        env={"VERIFY_SANDBOX_DIR": str(sandbox_dir)},
    )
    # The deploy converges once the run has seen it unconverged: heal on the first progress line.
    proc = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if "verify settle: ecs.service_stable[app-api] still failing" in line:
            sandbox.heal(sandbox_dir, "ecs-under-replicated")
            break
    stdout, stderr = proc.communicate(timeout=300)
    run = finished(tmp_path, proc.returncode, "".join(lines) + stdout, stderr)
    assert run.outcome == "pass", run.output
    stable = run.check("ecs.service_stable[app-api]")
    assert stable["status"] == "passed" and stable["attempts"] > 1 and stable["flaky"] is True
    assert stable["first_failure"] == (
        "service app-api: running 1 of desired 2; expected running == desired"
    )
    assert (
        "verify settle: ecs.service_stable[app-api] still failing (service app-api: running 1"
        in run.stdout
    )
    assert "FLAKY ecs.service_stable[app-api]: passed on attempt " in run.stdout
    assert run.verdict is not None and run.verdict["counts"]["flaky"] >= 1


def test_settle_gives_up_at_the_deadline(
    run_verify: Callable[..., VerifyRun], broken: Callable[[str], None]
) -> None:
    broken("ecs-under-replicated")
    run = smoke(run_verify, "--settle=15")  # room for a slow first probe on a loaded machine
    assert run.outcome == "fail"
    stable = run.check("ecs.service_stable[app-api]")
    assert stable["status"] == "failed" and stable["attempts"] >= 2


def test_local_starts_a_sandbox_when_none_is_up_stops_it_and_leaves_no_directory(
    tmp_path: Path,
) -> None:
    from verify import sandbox

    directory = tmp_path / "fresh-sandbox"
    body = (
        '[environments.local]\nsandbox = true\nrelease_from = "sandbox"\n'
        'aws = { region = "eu-west-1", endpoint_url = "sandbox:aws" }\n'
        'api = { base_url = "sandbox:api" }\nalarms = { prefix = "mobilytics-local-" }\n'
    )
    run = run_with_environments(tmp_path, body, env={"VERIFY_SANDBOX_DIR": str(directory)})
    assert run.outcome == "pass", run.output
    assert "verify: starting the sandbox in" in run.stderr
    assert sandbox.load_state(directory) is None
    assert not directory.exists()
    assert run.check("api.version")["status"] == "passed"


def test_without_a_release_it_is_discovered_from_the_task_definition(
    tmp_path: Path, sandbox_dir: Path, sandbox_state: Any, broken: Callable[[str], None]
) -> None:
    body = (
        (REPO / "environments.toml")
        .read_text()
        .replace('release_from = "sandbox"', 'release_from = "discover"')
    )
    sandboxed = {"VERIFY_SANDBOX_DIR": str(sandbox_dir)}
    run = run_with_environments(tmp_path, body, *CORE_ONLY, env=sandboxed)
    assert run.outcome == "pass", run.output
    assert run.verdict is not None and run.verdict["release"] == sandbox_state.release
    assert (
        run.verdict["release_source"]
        == "discovered: image tag of app-api app-api:2 container app-api"
    )
    # The service rolled back to an older revision than the newest ACTIVE one: FAIL.
    broken("ecs-wrong-image")
    rolled_back = run_with_environments(tmp_path, body, *CORE_ONLY, env=sandboxed)
    assert rolled_back.outcome == "fail"
    assert rolled_back.check("ecs.release[app-api]")["message"] == (
        "service app-api: PRIMARY deployment runs app-api:1; expected the newest ACTIVE revision "
        "app-api:2 (rolled back?)"
    )


def test_verify_run_command_and_exit_codes(
    sandbox_dir: Path, tmp_path: Path, broken: Callable[[str], None]
) -> None:
    def verify_run(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "VERIFY_SANDBOX_DIR": str(sandbox_dir)}
        command = [
            sys.executable,
            "-m",
            "verify.cli",
            "run",
            "--env=local",
            f"--reports-dir={tmp_path}",
        ]
        return subprocess.run(
            [*command, *args, *CORE_ONLY, "-p", "no:cacheprovider", "-p", "no:randomly"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    passing = verify_run()
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "VERDICT: PASS env=local" in passing.stdout
    broken("aws-throttled")
    erroring = verify_run()
    assert erroring.returncode == 6
    assert "VERDICT: ERROR (" in erroring.stdout
