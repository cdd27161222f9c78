"""deploy/terraform/verify-monitor: parses, passes checkov, and its task policy is verify's own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, SUPPORT

MODULE = REPO / "deploy" / "terraform" / "verify-monitor"
CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"
ENVIRONMENTS = ("dev", "staging", "prod")


@pytest.fixture(scope="module")
def module() -> dict[str, Any]:
    """Every .tf file of the module, parsed with python-hcl2, blocks merged by kind."""
    import hcl2

    merged: dict[str, Any] = {}
    for path in sorted(MODULE.glob("*.tf")):
        with path.open() as handle:
            parsed = hcl2.load(handle)
        for kind, blocks in parsed.items():
            merged.setdefault(kind, []).extend(blocks)
    return merged


def resource(module: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    for block in module["resource"]:
        if kind in block and name in block[kind]:
            return dict(block[kind][name])
    raise AssertionError(f"no resource {kind}.{name}")


def test_an_eventbridge_schedule_runs_the_container_on_fargate_in_private_subnets(
    module: dict[str, Any],
) -> None:
    schedule = resource(module, "aws_scheduler_schedule", "monitor")
    (target,) = schedule["target"]
    (ecs,) = target["ecs_parameters"]
    assert ecs["launch_type"] == "FARGATE"
    assert ecs["task_definition_arn"] == "${aws_ecs_task_definition.monitor.arn_without_revision}"
    (network,) = ecs["network_configuration"]
    assert network["subnets"] == "${var.private_subnet_ids}"
    assert network["assign_public_ip"] is False
    task = resource(module, "aws_ecs_task_definition", "monitor")
    assert task["requires_compatibilities"] == ["FARGATE"]
    assert task["task_role_arn"] == "${aws_iam_role.task.arn}"
    # jsonencode() of the container definitions: the command runs one monitor iteration.
    encoded = task["container_definitions"]
    assert encoded.startswith("${jsonencode(") and encoded.endswith(")}")
    (container,) = json.loads(encoded.removeprefix("${jsonencode(").removesuffix(")}"))
    assert container["command"][:3] == ["monitor", "--env=${var.environment}", "--once"]
    assert container["readonlyRootFilesystem"] is True
    assert container["logConfiguration"]["options"]["awslogs-group"] == (
        "${aws_cloudwatch_log_group.monitor.name}"
    )


def test_the_log_group_keeps_30_days(module: dict[str, Any]) -> None:
    group = resource(module, "aws_cloudwatch_log_group", "monitor")
    assert group["retention_in_days"] == 30


def test_the_task_role_policy_is_verify_iam_policy(module: dict[str, Any]) -> None:
    attached = resource(module, "aws_iam_role_policy", "task")
    assert attached["role"] == "${aws_iam_role.task.id}"
    assert attached["policy"] == '${file("${path.module}/policies/${var.environment}.json")}'
    environ = {k: v for k, v in os.environ.items() if not k.startswith("VERIFY_")}
    for env in ENVIRONMENTS:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "verify.cli",
                "iam-policy",
                f"--env={env}",
                "-m",
                "synthetic",
                "--monitor",
            ],
            cwd=REPO,
            env=environ,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        committed = json.loads((MODULE / "policies" / f"{env}.json").read_text())
        assert committed == json.loads(done.stdout), (
            f"policies/{env}.json is stale: regenerate with "
            f"verify iam-policy --env={env} -m synthetic --monitor"
        )


def test_checkov_passes(tmp_path: Path) -> None:
    assert CHECKOV.exists(), "checkov is missing: make checkov (its own venv, .venv-checkov)"
    environ = dict(os.environ)
    # Offline: no download from the vendor's API; names resolve on this machine only.
    environ["PYTHONPATH"] = str(SUPPORT)
    done = subprocess.run(
        [str(CHECKOV), "-d", str(MODULE), "--framework", "terraform", "--skip-download",
         "--quiet", "--compact", "-o", "json"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    report = json.loads(done.stdout)
    summary = report["summary"]
    failed = [c["check_id"] for c in report["results"]["failed_checks"]]
    assert (done.returncode, summary["failed"], failed) == (0, 0, []), done.stderr[-2000:]
    assert summary["passed"] > 50  # it really looked
