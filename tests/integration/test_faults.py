"""Every fault the sandbox can inject turns the verdict FAIL on the check that guards against it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import AWS_CHECKS, FRONTEND_EDGE_CHECKS, VerifyRun

# fault -> the check that must catch it (and a fragment its message must contain)
CAUGHT_BY = {
    "api-5xx": ("api.health", "answered HTTP 503; expected 200"),
    "api-slow": ("api.health", "ms; expected <= 750 ms"),
    "api-down": ("api.health", "connection refused; expected HTTP 200"),
    "api-wrong-version": ("api.version", "reports release '2026.11.25-3'; expected '2026.11.26-1'"),
    "target-unhealthy": ("alb.targets_healthy", "1 of 2 targets not healthy"),
    "target-single-az": ("alb.targets_healthy", "targets in 1 AZ(s) ['eu-west-1a']; expected >= 2"),
    "ecs-under-replicated": (
        "ecs.service_stable[app-api]",
        "running 1 of desired 2; expected running == desired",
    ),
    "ecs-rollout-failed": ("ecs.service_stable[app-api]", "expected one PRIMARY"),
    "ecs-crash-loop": ("ecs.no_crash_loop[app-api]", "3 tasks exited non-zero in the last 15 min"),
    "ecs-wrong-image": ("ecs.release[app-api]", "expected image tag '2026.11.26-1'"),
    "ecs-task-unhealthy": ("ecs.tasks_healthy[app-api]", "1 of 2 tasks not HEALTHY"),
    "ecs-single-az": (
        "ecs.tasks_healthy[app-api]",
        "2 tasks in 1 AZ(s) ['eu-west-1a']; expected spread over >= 2",
    ),
    "alarm-firing": ("alarms.none_firing", "alarms in ALARM: mobilytics-local-api-5xx"),
    "secret-missing": (
        "secrets.present",
        "/mobilytics/local/app-api/redis-auth (secretsmanager: not found)",
    ),
}
# Faults that, truthfully, trip a second check too.
ALSO_FAILS = {
    "api-down": {"api.version"},  # the same closed port
    "ecs-under-replicated": {"ecs.tasks_healthy[app-api]"},  # one task cannot span two AZs
}


@pytest.fixture
def smoke(run_verify: Callable[..., VerifyRun], sandbox_state: Any) -> Callable[[], VerifyRun]:
    return lambda: run_verify("--env=local", "-m", "smoke", f"--release={sandbox_state.release}")


def test_every_fault_is_covered_here() -> None:
    from verify.sandbox import faults

    declared = {fault.name: fault.check for fault in faults()}
    covered = {name: check for name, (check, _) in CAUGHT_BY.items()}
    assert {k: v for k, v in declared.items() if k in covered} == covered
    assert set(declared) - set(covered) == {"aws-throttled", "aws-access-denied"}


@pytest.mark.parametrize("fault", sorted(CAUGHT_BY))
def test_fault_fails_its_check_and_heal_restores_pass(
    fault: str, broken: Callable[[str], None], smoke: Callable[[], VerifyRun], sandbox_dir: Any
) -> None:
    from verify import sandbox

    check_id, fragment = CAUGHT_BY[fault]
    broken(fault)
    run = smoke()
    assert run.outcome == "fail", run.output
    assert run.exit_code == 1
    assert run.ids("failed") == {check_id} | ALSO_FAILS.get(fault, set()), run.output
    failed = run.check(check_id)
    assert fragment in failed["message"], failed["message"]
    assert "expected" in failed["message"]
    assert "VERDICT: FAIL env=local" in run.stdout

    sandbox.heal(sandbox_dir, fault)
    healed = smoke()
    assert healed.outcome == "pass", healed.output
    assert healed.exit_code == 0


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
    assert run.exit_code != 0
    assert run.ids("error") == AWS_CHECKS, run.output
    assert run.ids("passed") == {"api.health", "api.version", *FRONTEND_EDGE_CHECKS}
    for check_id in AWS_CHECKS:
        message = run.check(check_id)["message"]
        assert cause in message and "\n" not in message, message
    assert "Traceback" not in run.output
