"""Every fault the sandbox can inject turns the verdict FAIL on the check that guards against it;
every normal state it can put the platform in still PASSes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import AWS_CHECKS, CORE_ONLY, VerifyRun
from verify.sandbox import faults
from verify.sandbox.catalog import OWNER

# fault -> a fragment the failing check's message must contain (observed vs expected)
MESSAGES = {
    "api-5xx": "answered HTTP 503; expected 200",
    "api-slow": "ms; expected <= 750 ms",
    "api-down": "connection refused; expected HTTP 200",
    "api-wrong-version": "reports release '2026.11.25-3'; expected '2026.11.26-1'",
    "api-401-echo": "answered HTTP 401; expected 200",
    "target-unhealthy": "1 of 2 targets not healthy",
    "target-single-az": "targets in 1 AZ ['eu-west-1a']; expected >= 2",
    "ecs-under-replicated": "running 1 of desired 2; expected running == desired",
    "ecs-rollout-failed": "FAILED (ECS deployment circuit breaker: tasks failed to start.)",
    "ecs-crash-loop": "3 tasks crashed in the last 15 min (3x exit [1]",
    "ecs-task-failed-to-start": "failed to start: ResourceInitializationError",
    "ecs-health-check-replaced": "replaced: Task failed ELB health checks",
    "ecs-wrong-image": "expected image tag '2026.11.26-1'",
    "ecs-task-unhealthy": "1 of 2 tasks not HEALTHY",
    "ecs-single-az": "2 tasks in 1 AZ ['eu-west-1a']; expected spread over >= 2",
    "alarm-firing": "alarms in ALARM: mobilytics-local-api-5xx",
    "secret-missing": "/mobilytics/local/app-api/redis-auth (secretsmanager: not found)",
}
# The core parts' faults; each other part's faults are proven beside its component's tests.
CORE = {name for name, owner in OWNER.items() if owner in ("aws", "api")}
FAILING = sorted(f.name for f in faults() if f.expect == "fail" and f.name in CORE)
NORMAL = sorted(f.name for f in faults() if f.expect == "pass" and f.name in CORE)


@pytest.fixture
def smoke(run_verify: Callable[..., VerifyRun]) -> Callable[[], VerifyRun]:
    return lambda: run_verify("--env=local", "-m", "smoke", *CORE_ONLY)


@pytest.mark.parametrize("fault", FAILING)
def test_fault_fails_its_check_and_heal_restores_pass(
    fault: str, broken: Callable[[str], None], smoke: Callable[[], VerifyRun], sandbox_dir: Any
) -> None:
    from verify import sandbox
    from verify.sandbox.catalog import BY_NAME

    declared = BY_NAME[fault]
    broken(fault)
    run = smoke()
    assert run.outcome == "fail", run.output
    assert run.exit_code == 1
    assert run.ids("failed") == {declared.check, *declared.also}, run.output
    failed = run.check(declared.check)
    assert MESSAGES.get(fault, "expected") in failed["message"], failed["message"]
    assert "expected" in failed["message"]
    assert "VERDICT: FAIL (" in run.stdout

    sandbox.heal(sandbox_dir, fault)
    healed = smoke()
    assert healed.outcome == "pass", healed.output
    assert healed.exit_code == 0


@pytest.mark.parametrize("state", NORMAL)
def test_a_normal_state_passes(
    state: str, broken: Callable[[str], None], smoke: Callable[[], VerifyRun]
) -> None:
    broken(state)
    run = smoke()
    assert (run.outcome, run.exit_code) == ("pass", 0), run.output


@pytest.mark.parametrize(
    ("fault", "cause"),
    [("aws-throttled", "ThrottlingException"), ("aws-access-denied", "AccessDenied")],
)
def test_aws_errors_make_every_aws_check_error(
    fault: str, cause: str, broken: Callable[[str], None], smoke: Callable[[], VerifyRun]
) -> None:
    broken(fault)
    run = smoke()
    assert run.outcome == "error", run.output
    assert run.exit_code == 6
    assert run.ids("error") >= AWS_CHECKS, run.output
    assert {"api.health", "api.version"} <= run.ids("passed")
    for check_id in AWS_CHECKS:
        message = run.check(check_id)["message"]
        assert cause in message and "\n" not in message, message
    assert "Traceback" not in run.output
