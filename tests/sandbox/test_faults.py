"""Faults change exactly their target in moto/the API, and heal restores the seed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.sandbox.helpers import CLUSTER, REDIS_AUTH, Aws, Obs, http_get, observe
from verify.sandbox import (
    SandboxState,
    break_fault,
    faults,
    heal,
    load_state,
    spec,
)

REL, PREV = spec.DEFAULT_RELEASE, spec.DEFAULT_PREVIOUS_RELEASE
A, B = spec.AZS
IP_A, IP_B = spec.TARGET_IPS[A], spec.TARGET_IPS[B]
ALARMS = {a.name: a.initial_state for a in spec.ALARMS}


def running(az: str, health: str = "HEALTHY", release: str = REL) -> tuple[Any, ...]:
    return ("RUNNING", az, health, release, None, None)


def stopped(az: str, stop_code: str, exit_code: int | None, release: str = REL) -> tuple[Any, ...]:
    return ("STOPPED", az, "UNKNOWN", release, stop_code, exit_code)


def service(run: int = 2, revision: str = "current", deployments: list[Any] | None = None) -> Obs:
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
    "api-401-echo": {"version": (401, "Unauthorized.")},
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
            revision="new",
            deployments=[("PRIMARY", "FAILED", 0, "new"), ("ACTIVE", "COMPLETED", 2, "current")],
        )
    },
    "ecs-crash-loop": {
        "tasks:app-api": sorted(
            [running(A), running(B)]
            + [stopped(az, "EssentialContainerExited", 1) for az in (A, B, A)]
        )
    },
    "ecs-task-failed-to-start": {
        "tasks:app-api": sorted(
            [running(A), running(B)] + [stopped(az, "TaskFailedToStart", None) for az in (A, B)]
        )
    },
    "ecs-health-check-replaced": {
        "tasks:app-api": sorted(
            [running(A), running(B)]
            + [stopped(az, "ServiceSchedulerInitiated", 143) for az in (A, B)]
        )
    },
    "ecs-rolled": {
        "tasks:app-api": sorted(
            [running(A), running(B)]
            + [stopped(az, "ServiceSchedulerInitiated", 143, PREV) for az in (A, B)]
        )
    },
    "ecs-wrong-image": {
        "service:app-api": service(revision="previous"),
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


def test_every_fault_of_the_aws_and_api_parts_is_tested() -> None:
    from verify.sandbox.catalog import OWNER

    core = {f.name for f in faults() if OWNER[f.name] in ("aws", "api")}
    assert core == set(BROKEN) | {"aws-throttled", "aws-access-denied"}


def test_secret_missing_heal_recreates_the_value_the_platform_uses(
    sandbox: SandboxState, aws: Aws
) -> None:
    current_state = load_state(sandbox.dir)
    assert current_state is not None
    before = current_state.secrets[REDIS_AUTH]
    break_fault(sandbox.dir, "secret-missing")
    with pytest.raises(ClientError) as excinfo:
        aws.secretsmanager.describe_secret(SecretId=REDIS_AUTH)
    assert excinfo.value.response["Error"]["Code"] == "ResourceNotFoundException"
    heal(sandbox.dir)
    current = aws.secretsmanager.get_secret_value(SecretId=REDIS_AUTH)["SecretString"]
    assert current == before  # Redis still expects it: a new value would break AUTH


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
    assert state is not None and "api.api" not in state.pids
    events = app_api_events(aws)
    assert sum("has stopped 1 running tasks" in e["message"] for e in events) == 4
    heal(sandbox.dir)
    heal(sandbox.dir)
    events = app_api_events(aws)
    assert events[0]["message"] == "(service app-api) has reached a steady state."
    healed = load_state(sandbox.dir)
    assert healed is not None and healed.faults == []
    assert {"aws.aws", "api.api"} <= set(healed.pids)
    assert healed.endpoints == sandbox.endpoints  # the API came back on the same port
    assert observe(aws, healed) == baseline


def test_unknown_fault_is_a_value_error_listing_known_names(sandbox: SandboxState) -> None:
    with pytest.raises(ValueError, match="known faults: target-unhealthy, "):
        break_fault(sandbox.dir, "no-such-fault")
    with pytest.raises(ValueError, match="unknown fault"):
        heal(sandbox.dir, "no-such-fault")
