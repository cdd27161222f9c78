"""The embedded sandbox end to end: real processes, boto3 against the overlay, faults and heal."""

from __future__ import annotations

import json
import os
import stat
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

pytest.importorskip("moto", reason="the sandbox needs the `sandbox` extra (moto)")

from verify.sandbox import (
    SandboxError,
    SandboxState,
    break_fault,
    down,
    faults,
    heal,
    load_state,
    procs,
    spec,
    up,
)
from verify.sandbox import sandbox_dir as resolve_dir
from verify.sandbox.cli import sandbox as sandbox_cli

CLUSTER = spec.CLUSTER
REDIS_AUTH = spec.REDIS_AUTH_SECRET
Obs = dict[str, Any]
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Aws:
    """boto3 clients on the sandbox's AWS endpoint (the overlay)."""

    ecs: Any
    elbv2: Any
    ec2: Any
    cloudwatch: Any
    secretsmanager: Any


@pytest.fixture(scope="module")
def sandbox(sandbox_dir: Path) -> Iterator[SandboxState]:
    """The session's sandbox (tests/conftest.py); whatever a test here breaks is healed after."""
    state = load_state(sandbox_dir)
    assert state is not None
    yield state
    heal(sandbox_dir)


@pytest.fixture(scope="module")
def aws(sandbox_aws: Callable[[str], Any]) -> Aws:
    return Aws(*(sandbox_aws(n) for n in ("ecs", "elbv2", "ec2", "cloudwatch", "secretsmanager")))


def http_get(url: str, timeout: float = 5.0) -> tuple[int | str, Any]:
    """(status, JSON body), or ("refused", None) when nothing listens."""
    try:
        with _NO_PROXY.open(url, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ConnectionRefusedError):
            return "refused", None
        raise


def rev(arn: str) -> int:
    return int(arn.rsplit(":", 1)[1])


def tag(image: str) -> str:
    return image.rsplit(":", 1)[1]


def observe(aws: Aws, state: SandboxState) -> Obs:
    """A normalised picture of everything the checks look at (no ids, no timestamps)."""
    obs: Obs = {}
    services = aws.ecs.describe_services(cluster=CLUSTER, services=list(spec.SERVICES))
    for svc in services["services"]:
        obs[f"service:{svc['serviceName']}"] = {
            "running": svc["runningCount"],
            "pending": svc["pendingCount"],
            "desired": svc["desiredCount"],
            "rev": rev(svc["taskDefinition"]),
            "deployments": [
                (d["status"], d["rolloutState"], d["runningCount"], rev(d["taskDefinition"]))
                for d in svc["deployments"]
            ],
        }
    arns = [
        arn
        for status in ("RUNNING", "STOPPED")
        for page in aws.ecs.get_paginator("list_tasks").paginate(
            cluster=CLUSTER, desiredStatus=status
        )
        for arn in page["taskArns"]
    ]
    tasks = aws.ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"] if arns else []
    for name in spec.SERVICES:
        obs[f"tasks:{name}"] = sorted(
            (
                t["lastStatus"],
                t["availabilityZone"],
                t["healthStatus"],
                tag(t["containers"][0]["image"]),
                t.get("stopCode"),
                t["containers"][0].get("exitCode"),
            )
            for t in tasks
            if t["group"] == f"service:{name}"
        )
    tg = aws.elbv2.describe_target_groups(Names=[spec.TARGET_GROUP])["TargetGroups"][0]
    health = aws.elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])
    obs["targets"] = sorted(
        (d["Target"]["Id"], d["TargetHealth"]["State"], d["TargetHealth"].get("Reason"))
        for d in health["TargetHealthDescriptions"]
    )
    alarms = aws.cloudwatch.describe_alarms(
        AlarmNamePrefix=f"{spec.PREFIX}-", AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    )
    obs["alarms"] = {a["AlarmName"]: a["StateValue"] for a in alarms["MetricAlarms"]}
    obs["secrets"] = sorted(s["Name"] for s in aws.secretsmanager.list_secrets()["SecretList"])
    started = time.monotonic()
    obs["health"] = http_get(f"{state.endpoints['api']}/health")
    obs["health_slow"] = time.monotonic() - started >= 1.5
    obs["version"] = http_get(f"{state.endpoints['api']}/version")
    return obs


@pytest.fixture(scope="module")
def baseline(sandbox: SandboxState, aws: Aws) -> Obs:
    return observe(aws, sandbox)


# --- the seed ---------------------------------------------------------------------------------


def test_services_are_stable_with_real_counts_and_deployments(aws: Aws) -> None:
    services = aws.ecs.describe_services(cluster=CLUSTER, services=list(spec.SERVICES))["services"]
    assert [s["serviceName"] for s in services] == list(spec.SERVICES)
    for svc in services:
        assert (svc["desiredCount"], svc["runningCount"], svc["pendingCount"]) == (2, 2, 0)
        assert svc["launchType"] == "FARGATE"
        assert rev(svc["taskDefinition"]) == 2
        [deployment] = svc["deployments"]
        assert deployment["status"] == "PRIMARY"
        assert deployment["taskDefinition"] == svc["taskDefinition"]
        assert deployment["rolloutState"] == "COMPLETED"
        assert deployment["rolloutStateReason"] == f"ECS deployment {deployment['id']} completed."
        assert (deployment["runningCount"], deployment["pendingCount"]) == (2, 0)
        assert deployment["failedTasks"] == 0
        assert deployment["createdAt"] <= deployment["updatedAt"]
        assert svc["events"][0]["message"].endswith("has reached a steady state.")


def test_task_definitions_carry_previous_and_current_release(
    aws: Aws, sandbox: SandboxState
) -> None:
    for family in spec.SERVICES:
        for revision, release in ((1, sandbox.previous_release), (2, sandbox.release)):
            td = aws.ecs.describe_task_definition(taskDefinition=f"{family}:{revision}")
            image = td["taskDefinition"]["containerDefinitions"][0]["image"]
            assert image == spec.image(family, release)


def test_tasks_are_running_healthy_one_per_az(aws: Aws, sandbox: SandboxState) -> None:
    running = aws.ecs.list_tasks(cluster=CLUSTER, desiredStatus="RUNNING")["taskArns"]
    assert aws.ecs.list_tasks(cluster=CLUSTER, desiredStatus="STOPPED")["taskArns"] == []
    tasks = aws.ecs.describe_tasks(cluster=CLUSTER, tasks=running)["tasks"]
    for name in spec.SERVICES:
        mine = [t for t in tasks if t["group"] == f"service:{name}"]
        assert sorted(t["availabilityZone"] for t in mine) == list(spec.AZS)
        for task in mine:
            assert (task["lastStatus"], task["healthStatus"]) == ("RUNNING", "HEALTHY")
            assert task["startedAt"].timestamp() < time.time()
            assert "stopCode" not in task and "stoppedAt" not in task
            [container] = task["containers"]
            assert container["image"] == spec.image(name, sandbox.release)
            assert container["lastStatus"] == "RUNNING"
            assert "exitCode" not in container


def test_list_tasks_pages_and_filters_by_service(aws: Aws) -> None:
    pages = list(
        aws.ecs.get_paginator("list_tasks").paginate(
            cluster=CLUSTER, desiredStatus="RUNNING", PaginationConfig={"PageSize": 1}
        )
    )
    assert len(pages) == 4
    assert len({arn for page in pages for arn in page["taskArns"]}) == 4
    only_api = aws.ecs.list_tasks(cluster=CLUSTER, serviceName=spec.API_SERVICE)["taskArns"]
    assert len(only_api) == 2


def test_targets_are_healthy_in_two_azs(aws: Aws) -> None:
    tg = aws.elbv2.describe_target_groups(Names=[spec.TARGET_GROUP])["TargetGroups"][0]
    assert (tg["TargetType"], tg["Port"]) == ("ip", 3000)
    health = aws.elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])
    states = {
        d["Target"]["Id"]: d["TargetHealth"]["State"] for d in health["TargetHealthDescriptions"]
    }
    assert states == dict.fromkeys(spec.TARGET_IPS.values(), "healthy")
    enis = aws.ec2.describe_network_interfaces(
        Filters=[{"Name": "addresses.private-ip-address", "Values": list(states)}]
    )["NetworkInterfaces"]
    assert {e["PrivateIpAddress"]: e["AvailabilityZone"] for e in enis} == {
        ip: az for az, ip in spec.TARGET_IPS.items()
    }


def test_secrets_hold_the_generated_values(aws: Aws, sandbox: SandboxState) -> None:
    assert set(sandbox.secrets) == set(spec.SECRET_NAMES)
    for name in spec.SECRET_NAMES:
        assert aws.secretsmanager.describe_secret(SecretId=name)["Name"] == name
        value = aws.secretsmanager.get_secret_value(SecretId=name)["SecretString"]
        assert value == sandbox.secrets[name]


# --- faults -----------------------------------------------------------------------------------


REL, PREV = spec.DEFAULT_RELEASE, spec.DEFAULT_PREVIOUS_RELEASE
A, B = spec.AZS
IP_A, IP_B = spec.TARGET_IPS[A], spec.TARGET_IPS[B]
ALARMS = {a.name: a.initial_state for a in spec.ALARMS}


def running(az: str, health: str = "HEALTHY", release: str = REL) -> tuple[Any, ...]:
    return ("RUNNING", az, health, release, None, None)


def stopped(az: str, stop_code: str, exit_code: int) -> tuple[Any, ...]:
    return ("STOPPED", az, "UNKNOWN", REL, stop_code, exit_code)


def service(run: int = 2, revision: int = 2, deployments: list[Any] | None = None) -> Obs:
    primary = [("PRIMARY", "COMPLETED", run, revision)]
    return {"running": run, "pending": 0, "desired": 2, "rev": revision,
            "deployments": deployments or primary}  # fmt: skip


# fault -> what the observation shows while it is active (everything else equals the baseline)
BROKEN: dict[str, Obs] = {
    "api-5xx": {"health": (503, {"status": "error"})},
    "api-slow": {"health_slow": True},
    "api-down": {"health": ("refused", None), "version": ("refused", None)},
    "api-wrong-version": {
        "health": (200, {"status": "ok", "release": PREV}),
        "version": (200, {"release": PREV}),
    },
    "target-unhealthy": {
        "targets": [(IP_A, "unhealthy", "Target.FailedHealthChecks"), (IP_B, "healthy", None)]
    },
    "target-single-az": {"targets": [(IP_A, "healthy", None)]},
    "ecs-under-replicated": {
        "service:app-api": service(run=1),
        "tasks:app-api": [running(A), stopped(B, "ServiceSchedulerInitiated", 0)],
    },
    "ecs-rollout-failed": {
        "service:app-api": service(
            revision=3, deployments=[("PRIMARY", "FAILED", 0, 3), ("ACTIVE", "COMPLETED", 2, 2)]
        )
    },
    "ecs-crash-loop": {
        "tasks:app-api": sorted(
            [running(A), running(B)]
            + [stopped(az, "EssentialContainerExited", 1) for az in (A, B, A)]
        )
    },
    "ecs-wrong-image": {
        "service:app-api": service(revision=1),
        "tasks:app-api": [running(A, release=PREV), running(B, release=PREV)],
    },
    "ecs-task-unhealthy": {"tasks:app-api": [running(A, health="UNHEALTHY"), running(B)]},
    "ecs-single-az": {"tasks:app-api": [running(A), running(A)]},
    "alarm-firing": {"alarms": {**ALARMS, f"{spec.PREFIX}-api-5xx": "ALARM"}},
    "secret-missing": {"secrets": sorted(set(spec.SECRET_NAMES) - {REDIS_AUTH})},
}


def test_baseline_is_the_healthy_seed(baseline: Obs) -> None:
    # Alarms start OK, but a replica with no datapoints yet shows INSUFFICIENT_DATA (as on AWS).
    assert set(ALARMS.values()) == {"OK", "INSUFFICIENT_DATA"}
    assert ALARMS[f"{spec.PREFIX}-rds-replica-lag"] == "INSUFFICIENT_DATA"
    assert baseline == {
        **{f"service:{name}": service() for name in spec.SERVICES},
        **{f"tasks:{name}": [running(A), running(B)] for name in spec.SERVICES},
        "targets": [(IP_A, "healthy", None), (IP_B, "healthy", None)],
        "alarms": ALARMS,
        "secrets": sorted(spec.SECRET_NAMES),
        "health": (200, {"status": "ok", "release": REL}),
        "health_slow": False,
        "version": (200, {"release": REL}),
    }


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_fault_changes_exactly_its_target_and_heal_restores(
    name: str, sandbox: SandboxState, aws: Aws, baseline: Obs
) -> None:
    try:
        break_fault(sandbox.dir, name)
        state = load_state(sandbox.dir)
        assert state is not None and state.faults == [name]
        assert observe(aws, state) == {**baseline, **BROKEN[name]}
    finally:
        heal(sandbox.dir, name)
    healed_state = load_state(sandbox.dir)
    assert healed_state is not None and healed_state.faults == []
    assert observe(aws, healed_state) == baseline


def test_every_catalogued_fault_is_tested() -> None:
    assert {f.name for f in faults()} == set(BROKEN) | {"aws-throttled", "aws-access-denied"}


def test_secret_missing_heal_recreates_with_a_new_value(sandbox: SandboxState, aws: Aws) -> None:
    current_state = load_state(sandbox.dir)
    assert current_state is not None
    before = current_state.secrets[REDIS_AUTH]
    break_fault(sandbox.dir, "secret-missing")
    with pytest.raises(ClientError) as excinfo:
        aws.secretsmanager.describe_secret(SecretId=REDIS_AUTH)
    assert excinfo.value.response["Error"]["Code"] == "ResourceNotFoundException"
    heal(sandbox.dir)
    state = load_state(sandbox.dir)
    assert state is not None
    assert state.secrets[REDIS_AUTH] != before
    current = aws.secretsmanager.get_secret_value(SecretId=REDIS_AUTH)["SecretString"]
    assert current == state.secrets[REDIS_AUTH]


AWS_WIDE = {
    # fault -> (error code per client, HTTP status): one code across protocols
    "aws-throttled": (
        dict.fromkeys(
            ("ecs", "elbv2", "ec2", "cloudwatch", "secretsmanager"), "ThrottlingException"
        ),
        400,
    ),
    "aws-access-denied": (
        {
            "ecs": "AccessDeniedException",
            "elbv2": "AccessDenied",
            "ec2": "AccessDenied",
            "cloudwatch": "AccessDenied",
            "secretsmanager": "AccessDeniedException",
        },
        403,
    ),
}


@pytest.mark.parametrize("name", sorted(AWS_WIDE))
def test_aws_wide_faults_answer_real_error_shapes(
    name: str, sandbox: SandboxState, aws: Aws, baseline: Obs
) -> None:
    calls: dict[str, Callable[[], Any]] = {
        "ecs": lambda: aws.ecs.describe_services(cluster=CLUSTER, services=["app-api"]),
        "elbv2": lambda: aws.elbv2.describe_target_groups(Names=[spec.TARGET_GROUP]),
        "ec2": lambda: aws.ec2.describe_network_interfaces(),
        "cloudwatch": lambda: aws.cloudwatch.describe_alarms(AlarmNamePrefix=spec.PREFIX),
        "secretsmanager": lambda: aws.secretsmanager.describe_secret(SecretId=REDIS_AUTH),
    }
    try:
        break_fault(sandbox.dir, name)
        codes, status = AWS_WIDE[name]
        for client, code in codes.items():
            with pytest.raises(ClientError) as excinfo:
                calls[client]()
            error = excinfo.value.response
            assert error["Error"]["Code"] == code, client
            assert error["ResponseMetadata"]["HTTPStatusCode"] == status, client
            assert error["ResponseMetadata"]["RetryAttempts"] == 0, client
        assert http_get(f"{sandbox.endpoints['api']}/health")[0] == 200  # the API is untouched
    finally:
        heal(sandbox.dir, name)
    assert observe(aws, sandbox) == baseline


def app_api_events(aws: Aws) -> list[Obs]:
    described = aws.ecs.describe_services(cluster=CLUSTER, services=[spec.API_SERVICE])
    events: list[Obs] = described["services"][0]["events"]
    return events


def test_break_is_idempotent_and_heal_all_restores(
    sandbox: SandboxState, aws: Aws, baseline: Obs
) -> None:
    for name in ("ecs-under-replicated", "ecs-crash-loop", "ecs-wrong-image", "api-down"):
        break_fault(sandbox.dir, name)
        break_fault(sandbox.dir, name)
    state = load_state(sandbox.dir)
    assert state is not None and "api" not in state.pids
    events = app_api_events(aws)
    assert sum("has stopped 1 running tasks" in e["message"] for e in events) == 4
    heal(sandbox.dir)
    heal(sandbox.dir)
    events = app_api_events(aws)
    assert events[0]["message"] == "(service app-api) has reached a steady state."
    healed = load_state(sandbox.dir)
    assert healed is not None and healed.faults == [] and set(healed.pids) == {"aws", "api"}
    assert healed.endpoints == sandbox.endpoints  # the API came back on the same port
    assert observe(aws, healed) == baseline


def test_unknown_fault_is_a_value_error_listing_known_names(sandbox: SandboxState) -> None:
    with pytest.raises(ValueError, match="known faults: api-5xx, api-slow"):
        break_fault(sandbox.dir, "no-such-fault")
    with pytest.raises(ValueError, match="unknown fault"):
        heal(sandbox.dir, "no-such-fault")


# --- lifecycle and CLI ------------------------------------------------------------------------


def test_up_again_reuses_the_running_sandbox(sandbox: SandboxState) -> None:
    before = load_state(sandbox.dir)
    assert before is not None
    again = up(sandbox.dir)
    assert (again.pids, again.endpoints) == (before.pids, before.endpoints)


def test_state_file_is_private(sandbox: SandboxState) -> None:
    mode = stat.S_IMODE((sandbox.dir / "state.json").stat().st_mode)
    assert mode == 0o600
    assert "secrets" not in repr(sandbox)


def test_cli_output_never_shows_secrets(sandbox: SandboxState) -> None:
    runner = CliRunner()
    directory = str(sandbox.dir)
    outputs = []
    for args in (
        ["up", "--dir", directory],
        ["status", "--dir", directory],
        ["faults"],
        ["break", "secret-missing", "--dir", directory],
        ["status", "--dir", directory],
        ["heal", "--dir", directory],
        ["status", "--dir", directory],
    ):
        result = runner.invoke(sandbox_cli, args)
        assert result.exit_code == 0, (args, result.output)
        outputs.append(result.output)
    state = load_state(sandbox.dir)
    assert state is not None
    text = "\n".join(outputs)
    assert "sandbox reused" in text and sandbox.endpoints["aws"] in text
    logs = "\n".join(p.read_text() for p in sandbox.dir.glob("*.log"))
    for value in {*sandbox.secrets.values(), *state.secrets.values()}:
        assert value not in text
        assert value not in logs
    field = runner.invoke(sandbox_cli, ["status", "--dir", directory, "--field", "release"])
    assert (field.exit_code, field.output) == (0, f"{sandbox.release}\n")


def test_cli_errors_are_one_line_with_exit_2(sandbox: SandboxState, tmp_path: Path) -> None:
    runner = CliRunner()
    unknown = runner.invoke(sandbox_cli, ["break", "nope", "--dir", str(sandbox.dir)])
    assert unknown.exit_code == 2
    assert unknown.output.count("\n") == 1 and "known faults:" in unknown.output
    missing = runner.invoke(sandbox_cli, ["heal", "--dir", str(tmp_path)])
    assert missing.exit_code == 2 and "no sandbox running" in missing.output
    assert "Traceback" not in unknown.output + missing.output
    status = runner.invoke(sandbox_cli, ["status", "--dir", str(tmp_path)])
    assert status.exit_code == 1
    with pytest.raises(SandboxError):
        break_fault(tmp_path, "api-5xx")


def test_cli_up_then_down_leaves_no_process(tmp_path: Path) -> None:
    runner = CliRunner()
    directory = str(tmp_path / "sbx")
    started = runner.invoke(sandbox_cli, ["up", "--dir", directory, "--latency-ms", "5"])
    assert started.exit_code == 0, started.output
    state = load_state(Path(directory))
    assert state is not None and state.latency_ms == 5
    assert f"sandbox up in {state.startup_s:.2f} s" in started.output
    pids = list(state.pids.values())
    stopped = runner.invoke(sandbox_cli, ["down", "--dir", directory])
    assert stopped.exit_code == 0 and "sandbox stopped" in stopped.output
    for pid in pids:
        assert not procs.pid_alive(pid)
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert load_state(Path(directory)) is None
    assert not (Path(directory) / "state.json").exists()
    down(Path(directory))  # idempotent


def test_sandbox_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VERIFY_SANDBOX_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert resolve_dir() == tmp_path / ".sandbox"
    monkeypatch.setenv("VERIFY_SANDBOX_DIR", str(tmp_path / "env"))
    assert resolve_dir() == tmp_path / "env"
    assert resolve_dir(tmp_path / "explicit") == tmp_path / "explicit"
