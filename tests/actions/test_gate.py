"""The deploy gate end to end on the session sandbox: bad deploy -> FAIL -> rollback -> PASS."""

from __future__ import annotations

import json
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.actions.envs import BAD_RELEASE, with_rollback
from tests.conftest import CORE_ONLY, VerifyRun, run_with_environments

HOOKS = """mode = "auto"

[[environments.local.rollback.hooks]]
type = "ecs-previous-task-definition"
wait_stable = true
timeout_s = 30

[[environments.local.rollback.hooks]]
type = "s3-asset-set"
bucket = "support-static-assets-local"
distribution_id = "sandbox:support_distribution"
timeout_s = 30
"""
POINTER = "current-release.json"


@pytest.fixture
def deployed(sandbox_dir: Path) -> Iterator[Callable[..., Any]]:
    """`deployed(release, bad=...)` deploys to the session sandbox; every deploy is undone after."""
    from verify.sandbox import deploy

    yield lambda release, bad=False: deploy.deploy(sandbox_dir, release, bad)
    deploy.reset(sandbox_dir)


def gate(
    tmp_path: Path,
    sandbox_dir: Path,
    table: str,
    *args: str,
    extra_env: dict[str, str] | None = None,
) -> VerifyRun:
    env = {"VERIFY_SANDBOX_DIR": str(sandbox_dir), **(extra_env or {})}
    tmp_path.mkdir(parents=True, exist_ok=True)
    return run_with_environments(tmp_path, with_rollback(table), *CORE_ONLY, *args, env=env)


def services(sandbox_dir: Path) -> dict[str, str]:
    from verify.sandbox import deploy

    return {k: v.rsplit("/", 1)[-1] for k, v in deploy.status(sandbox_dir)["services"].items()}


def pointer(sandbox_aws: Callable[[str], Any]) -> str:
    body = sandbox_aws("s3").get_object(Bucket="support-static-assets-local", Key=POINTER)
    return str(json.loads(body["Body"].read())["release"])


def api_answer(sandbox_state: Any, path: str) -> tuple[int, dict[str, Any]]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(sandbox_state.endpoints["api"] + path, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def edge_html(sandbox_state: Any) -> str:
    """The support surface's `/` as its edge serves it now (a fresh connection, no cache)."""
    import ssl

    context = ssl.create_default_context(cafile=sandbox_state.endpoints["edge_ca"])
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )
    with opener.open(sandbox_state.endpoints["support_edge"] + "/", timeout=10) as response:
        return str(response.read().decode())


def hook(run: VerifyRun, name: str) -> dict[str, Any]:
    assert run.verdict is not None, run.output
    found = {h["name"]: h for h in run.verdict["rollback"]["hooks"]}
    assert name in found, (found, run.output)
    return dict(found[name])


def test_bad_deploy_fails_rolls_back_and_reverifies_pass_then_is_idempotent(
    tmp_path: Path,
    sandbox_dir: Path,
    sandbox_state: Any,
    sandbox_aws: Callable[[str], Any],
    deployed: Callable[..., Any],
) -> None:
    good = sandbox_state.release
    deployed(BAD_RELEASE, bad=True)
    assert services(sandbox_dir)["app-api"] != "app-api:2"
    assert api_answer(sandbox_state, "/health")[0] == 500
    assert pointer(sandbox_aws) == BAD_RELEASE
    # Its frontend: the edge serves HTML whose chunks the origin does not have (a stale build).
    assert sandbox_state.previous_release in edge_html(sandbox_state)

    first = gate(tmp_path / "1", sandbox_dir, HOOKS, f"--release={BAD_RELEASE}")

    assert first.exit_code == 1, first.output
    assert first.outcome == "fail"
    assert first.check("api.health")["status"] == "failed"
    rollback = first.verdict["rollback"]  # type: ignore[index]
    assert rollback["triggered"] is True and rollback["ok"] is True
    ecs = hook(first, "ecs-previous-task-definition")
    assert ecs["status"] == "ok" and ecs["changed"] is True
    assert f"(release {good})" in ecs["message"] and "rollout COMPLETED" in ecs["message"]
    s3 = hook(first, "s3-asset-set")
    assert s3["status"] == "ok" and f"{BAD_RELEASE} -> {good}" in s3["message"]
    assert "Completed" in s3["message"]  # the CloudFront invalidation after it
    assert rollback["reverify"]["verdict"] == "pass", rollback["reverify"]
    assert rollback["reverify"]["release"] == good
    assert "ROLLBACK: mode=auto triggered=true" in first.stdout
    assert "RE-VERIFY: PASS" in first.stdout
    # The sandbox really is back: API tasks on the seeded revision, healthy, assets pointer too.
    assert services(sandbox_dir) == {"app-api": "app-api:2", "bullmq-workers": "bullmq-workers:2"}
    assert api_answer(sandbox_state, "/version") == (200, {"release": good})
    assert pointer(sandbox_aws) == good
    html = edge_html(sandbox_state)
    assert good in html and sandbox_state.previous_release not in html

    second = gate(tmp_path / "2", sandbox_dir, HOOKS, f"--release={BAD_RELEASE}")

    assert second.outcome == "fail"  # the bad release is not live: the gate still says no
    ecs = hook(second, "ecs-previous-task-definition")
    assert ecs["status"] == "ok" and ecs["changed"] is False
    assert "already on app-api:2" in ecs["message"] and "nothing to do" in ecs["message"]
    s3 = hook(second, "s3-asset-set")
    assert s3["changed"] is False and "already names" in s3["message"]
    assert services(sandbox_dir)["app-api"] == "app-api:2"


def test_dry_run_records_what_it_would_do_and_changes_nothing(
    tmp_path: Path,
    sandbox_dir: Path,
    sandbox_state: Any,
    sandbox_aws: Callable[[str], Any],
    deployed: Callable[..., Any],
) -> None:
    deployed(BAD_RELEASE, bad=True)
    before = services(sandbox_dir)

    run = gate(tmp_path, sandbox_dir, HOOKS, f"--release={BAD_RELEASE}", "--rollback=dry-run")

    assert run.exit_code == 1 and run.outcome == "fail"
    assert run.verdict["rollback"]["mode"] == "dry-run"  # type: ignore[index]
    ecs = hook(run, "ecs-previous-task-definition")
    assert ecs["status"] == "dry-run" and "would update app-api" in ecs["message"]
    s3 = hook(run, "s3-asset-set")
    assert s3["status"] == "dry-run" and "would point" in s3["message"]
    assert "would invalidate" in s3["message"]
    assert run.verdict["rollback"]["reverify"] is None  # type: ignore[index]
    assert services(sandbox_dir) == before
    assert pointer(sandbox_aws) == BAD_RELEASE
    assert api_answer(sandbox_state, "/health")[0] == 500
    assert sandbox_state.previous_release in edge_html(sandbox_state)


def test_a_failing_hook_keeps_fail_exits_non_zero_and_says_what_is_left(
    tmp_path: Path, sandbox_dir: Path, broken: Callable[[str], None]
) -> None:
    """Under xdist too: the hooks run once, on the controller (the ledger hook counts runs)."""
    broken("api-5xx")
    ledger = tmp_path / "ledger.txt"
    fails = [sys.executable, "-c", "import sys; print('no route to deployer'); sys.exit(3)"]
    counts = [sys.executable, "-c", f"open({str(ledger)!r}, 'a').write('ran\\n')"]
    table = (
        'mode = "auto"\nreverify = false\nhooks = [\n'
        f'  {{ type = "command", argv = {json.dumps(fails)} }},\n'
        f'  {{ type = "command", name = "ledger", argv = {json.dumps(counts)} }},\n]\n'
    )

    run = gate(tmp_path / "run", sandbox_dir, table, "-n", "2")

    assert run.exit_code == 1 and run.outcome == "fail", run.output
    failed = hook(run, "command")
    assert failed["status"] == "failed"
    assert "exited 3: no route to deployer" in failed["message"]
    assert "by hand" in failed["manual"]
    assert hook(run, "ledger")["status"] == "ok"  # a failing hook does not stop the next
    assert ledger.read_text() == "ran\n"
    assert run.verdict["rollback"]["ok"] is False  # type: ignore[index]
    assert run.verdict["rollback"]["manual"]  # type: ignore[index]
    assert "left to do by hand" in run.stdout


def test_rollback_off_runs_nothing(
    tmp_path: Path, sandbox_dir: Path, broken: Callable[[str], None]
) -> None:
    broken("api-5xx")
    table = 'mode = "off"\nhooks = [{ type = "command", argv = ["false"] }]\n'

    run = gate(tmp_path, sandbox_dir, table)

    assert run.outcome == "fail"
    assert run.verdict["rollback"] == {"mode": "off", "triggered": False, "hooks": []}  # type: ignore[index]


# Granted to the hooks but not exercised by the sandbox, each for a reason the sandbox cannot show.
HOOKS_UNEXERCISED = {
    "cloudfront:GetInvalidation": "moto completes an invalidation when it is created: no polling",
}


# The IAM action and resources of each call the hooks make (S3's object-version read and version
# listing have actions of their own).
def action_and_resources(call: dict[str, Any], state: Any) -> tuple[str, list[str], dict[str, str]]:
    service, op, p = call["service"], call["operation"], call["params"]
    if service == "ecs":
        if op in ("DescribeServices", "UpdateService"):
            names = p["services"] if op == "DescribeServices" else [p["service"]]
            prefix = f"arn:aws:ecs:{state.region}:{state.account_id}:service/{p['cluster']}"
            return f"ecs:{op}", [f"{prefix}/{name}" for name in names], {}
        return f"ecs:{op}", ["*"], {}
    if service == "s3":
        if op == "ListObjectVersions":
            return (
                "s3:ListBucketVersions",
                [f"arn:aws:s3:::{p['Bucket']}"],
                {"s3:prefix": p["Prefix"]},
            )
        action = "s3:GetObjectVersion" if op == "GetObject" and "VersionId" in p else f"s3:{op}"
        return action, [f"arn:aws:s3:::{p['Bucket']}/{p['Key']}"], {}
    assert service == "cloudfront", call
    arn = f"arn:aws:cloudfront::{state.account_id}:distribution/{p['DistributionId']}"
    return f"cloudfront:{op}", [arn], {}


def test_the_rollback_role_allows_every_call_the_hooks_make_and_no_more(
    tmp_path: Path, sandbox_dir: Path, sandbox_state: Any, deployed: Callable[..., Any]
) -> None:
    from tests.conftest import verify_cli
    from tests.iam.test_iam_policy import allows

    deployed(BAD_RELEASE, bad=True)
    calls = tmp_path / "calls.jsonl"
    table = HOOKS.replace('mode = "auto"\n', 'mode = "auto"\nreverify = false\n')
    run = gate(
        tmp_path,
        sandbox_dir,
        table,
        f"--release={BAD_RELEASE}",
        "-p",
        "aws_recorder",
        extra_env={"VERIFY_TEST_AWS_CALLS": str(calls)},
    )
    assert run.verdict is not None and run.verdict["rollback"]["ok"] is True, run.output
    done = verify_cli(
        "iam-policy",
        "--env=local",
        f"--environments={tmp_path / 'environments.toml'}",
        "--rollback",
        env={"VERIFY_SANDBOX_DIR": str(sandbox_dir)},
    )
    assert done.returncode == 0, done.stderr
    statements = json.loads(done.stdout)["Statement"]
    recorded = [json.loads(line) for line in calls.read_text().splitlines()]
    hook_calls = [c for c in recorded if c["thread"].startswith("verify-hook-")]
    used = set()
    for call in hook_calls:
        action, resources, context = action_and_resources(call, sandbox_state)
        for resource in resources:
            assert any(allows(s, action, resource, context) for s in statements), (
                f"{action} on {resource} is not allowed by the rollback policy"
            )
        used.add(action)
    granted = {a for s in statements for a in s["Action"]}
    assert used <= granted
    assert granted - used == set(HOOKS_UNEXERCISED), "granted, never used"
