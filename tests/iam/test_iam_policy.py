"""`verify iam-policy`: every AWS call of a whole sandbox run is allowed, nothing unused is granted."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import VerifyRun, verify_cli

SELECTION = "smoke or deep or synthetic"
IAM_PREFIX = {"elbv2": "elasticloadbalancing"}
# Granted but not exercised by the sandbox, each for a reason the sandbox cannot show.
UNEXERCISED = {
    "ec2:DescribeInstances": "the sandbox's target groups hold IP targets, not instances",
}


def iam_policy(sandbox_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return verify_cli("iam-policy", *args, env={"VERIFY_SANDBOX_DIR": str(sandbox_dir)})


def resources_of(call: dict[str, Any], state: Any, secret_arns: dict[str, str]) -> list[str]:
    """The ARNs a call touches, from its own parameters ('*' where IAM cannot scope it)."""
    op, p = call["operation"], call["params"]
    acct, region = state.account_id, state.region

    def arn(service: str, resource: str, regional: bool = True) -> str:
        return f"arn:aws:{service}:{region if regional else ''}:{acct}:{resource}"

    if op == "DescribeServices":
        return [arn("ecs", f"service/{p['cluster']}/{s}") for s in p["services"]]
    if op == "DescribeTasks":
        return list(p["tasks"])
    if op in ("DescribeSecret", "GetSecretValue"):
        return [secret_arns[p["SecretId"]]]
    if op == "GetParameter":
        return [arn("ssm", f"parameter/{p['Name'].lstrip('/')}")]
    if op == "DescribeDBInstances":
        (ids,) = [f["Values"] for f in p["Filters"] if f["Name"] == "db-instance-id"]
        return [arn("rds", f"db:{i}") for i in ids]
    if op == "ListInvalidations":
        return [arn("cloudfront", f"distribution/{p['DistributionId']}", regional=False)]
    return ["*"]


def context_of(call: dict[str, Any], state: Any) -> dict[str, str]:
    if call["operation"] == "ListTasks":
        cluster = call["params"]["cluster"]
        return {"ecs:cluster": f"arn:aws:ecs:{state.region}:{state.account_id}:cluster/{cluster}"}
    return {}


def allows(statement: dict[str, Any], action: str, resource: str, context: dict[str, str]) -> bool:
    actions = (
        statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    )
    granted = statement["Resource"]
    granted = granted if isinstance(granted, list) else [granted]
    if statement["Effect"] != "Allow" or action not in actions:
        return False
    if not any(fnmatchcase(resource, pattern) for pattern in granted):
        return False
    for operator, body in (statement.get("Condition") or {}).items():
        assert operator in ("ArnEquals", "StringEquals"), operator
        if any(context.get(key) != value for key, value in body.items()):
            return False
    return True


@pytest.fixture(scope="module")
def recorded(sandbox_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Every AWS call of one run of every component's checks against the sandbox."""
    from tests.conftest import run_pytest

    work = tmp_path_factory.mktemp("iam")
    calls = work / "calls.jsonl"
    run: VerifyRun = run_pytest(
        "--env=local",
        "-m",
        SELECTION,
        "-p",
        "aws_recorder",
        reports=work / "reports",
        env={"VERIFY_SANDBOX_DIR": str(sandbox_dir), "VERIFY_TEST_AWS_CALLS": str(calls)},
    )
    assert run.outcome == "pass", run.output  # every component observed the healthy sandbox
    return [json.loads(line) for line in calls.read_text().splitlines()]


def test_every_call_is_allowed_and_nothing_unused_is_granted(
    recorded: list[dict[str, Any]],
    sandbox_dir: Path,
    sandbox_state: Any,
    sandbox_aws: Callable[[str], Any],
) -> None:
    done = iam_policy(sandbox_dir, "--env=local", "-m", SELECTION)
    assert done.returncode == 0, done.stderr
    policy = json.loads(done.stdout)
    assert policy["Version"] == "2012-10-17"
    statements = policy["Statement"]
    listed = sandbox_aws("secretsmanager").list_secrets()["SecretList"]
    secret_arns = {s["Name"]: s["ARN"] for s in listed}
    used: dict[str, set[str]] = {}
    services = {c["service"] for c in recorded}
    assert {"ecs", "elbv2", "cloudwatch", "secretsmanager", "rds", "cloudfront"} <= services
    for call in recorded:
        action = f"{IAM_PREFIX.get(call['service'], call['service'])}:{call['operation']}"
        context = context_of(call, sandbox_state)
        for resource in resources_of(call, sandbox_state, secret_arns):
            assert any(allows(s, action, resource, context) for s in statements), (
                f"{action} on {resource} is not allowed by the policy"
            )
            used.setdefault(action, set()).add(resource)
    granted = {a for s in statements for a in s["Action"]}
    assert granted - set(used) == set(UNEXERCISED), "granted, never used"
    # Every scoped resource the policy names was touched by a call of its action.
    for statement in statements:
        patterns = statement["Resource"]
        for pattern in patterns if isinstance(patterns, list) else [patterns]:
            if pattern == "*":
                continue
            assert any(
                fnmatchcase(resource, pattern)
                for action in statement["Action"]
                for resource in used.get(action, ())
            ), f"{pattern} is granted but no call touched it"
    # Read-only: no action that writes.
    writes = ("Put", "Create", "Delete", "Update", "Modify", "Start", "Stop", "Reboot", "Register")
    assert not [a for a in granted if a.split(":")[1].startswith(writes)]


def test_monitor_adds_its_metrics_and_webhook_secret(tmp_path: Path, sandbox_dir: Path) -> None:
    envfile = tmp_path / "environments.toml"
    envfile.write_text(
        '[environments.prod]\naws = { region = "eu-west-1", account_id = "111122223333" }\n'
        'alarms = { prefix = "mobilytics-prod-" }\n'
        '[environments.prod.monitor]\nmetrics = "put_metric_data"\n'
        'alerts = { webhook = "secretsmanager:/mobilytics/prod/verify/alert-webhook", '
        'sns_topic_arn = "arn:aws:sns:eu-west-1:111122223333:mobilytics-prod-alerts" }\n'
    )
    plain = json.loads(iam_policy(sandbox_dir, "--env=prod", f"--environments={envfile}").stdout)
    done = iam_policy(sandbox_dir, "--env=prod", f"--environments={envfile}", "--monitor")
    assert done.returncode == 0, done.stderr
    statements = json.loads(done.stdout)["Statement"]
    by_action = {a: s for s in statements for a in s["Action"]}
    assert {a for s in plain["Statement"] for a in s["Action"]} == {"cloudwatch:DescribeAlarms"}
    assert by_action["cloudwatch:PutMetricData"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "Mobilytics/Verify"}
    }
    assert by_action["sns:Publish"]["Resource"] == (
        "arn:aws:sns:eu-west-1:111122223333:mobilytics-prod-alerts"
    )
    assert by_action["secretsmanager:GetSecretValue"]["Resource"] == (
        "arn:aws:secretsmanager:eu-west-1:111122223333:secret:/mobilytics/prod/verify/alert-webhook-??????"
    )


def test_rollback_without_hooks_says_so_and_where_a_team_s_hooks_plug_in(
    sandbox_dir: Path,
) -> None:
    done = iam_policy(sandbox_dir, "--env=prod", "--rollback")
    assert done.returncode == 1
    assert done.stderr == (
        "Error: environment prod has no rollback hooks that call AWS (rollback.hooks; a team's "
        "own hooks declare theirs under the 'verify.rollback_iam' entry point)\n"
    )


def test_a_narrower_selection_grants_less(sandbox_dir: Path) -> None:
    full = json.loads(iam_policy(sandbox_dir, "--env=prod", "-m", SELECTION).stdout)
    deep = json.loads(iam_policy(sandbox_dir, "--env=prod", "-m", "deep").stdout)
    actions = [{a for s in p["Statement"] for a in s["Action"]} for p in (full, deep)]
    assert actions[1] < actions[0]
