"""The fault catalogue: what each fault breaks and the check that must catch it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """One injectable fault; `check` is the id of the check that must fail while it is active."""

    name: str
    description: str
    check: str
    target: str  # "api": the demo API process; "aws": the AWS server (moto + overlay)


FAULTS: tuple[Fault, ...] = (
    Fault("api-5xx", 'demo API /health answers 503 {"status": "error"}', "api.health", "api"),
    Fault("api-slow", "demo API /health answers after 2.0 s", "api.health", "api"),
    Fault("api-down", "demo API process killed (connection refused)", "api.health", "api"),
    Fault(
        "api-wrong-version",
        "/version and /health report the previous release",
        "api.version",
        "api",
    ),
    Fault(
        "target-unhealthy",
        "one ALB target unhealthy (Target.FailedHealthChecks)",
        "alb.targets_healthy",
        "aws",
    ),
    Fault(
        "target-single-az", "the eu-west-1b ALB target deregistered", "alb.targets_healthy", "aws"
    ),
    Fault(
        "ecs-under-replicated",
        "one app-api task stopped by the scheduler: running 1 < 2",
        "ecs.service_stable[app-api]",
        "aws",
    ),
    Fault(
        "ecs-rollout-failed",
        "app-api deployment on a new revision FAILED (circuit breaker)",
        "ecs.service_stable[app-api]",
        "aws",
    ),
    Fault(
        "ecs-crash-loop",
        "3 app-api tasks exited with code 1 in the last minutes",
        "ecs.no_crash_loop[app-api]",
        "aws",
    ),
    Fault(
        "ecs-wrong-image",
        "app-api service and tasks run the previous release image",
        "ecs.release[app-api]",
        "aws",
    ),
    Fault(
        "ecs-task-unhealthy",
        "one app-api task reports healthStatus UNHEALTHY",
        "ecs.tasks_healthy[app-api]",
        "aws",
    ),
    Fault(
        "ecs-single-az",
        "both app-api tasks placed in eu-west-1a",
        "ecs.tasks_healthy[app-api]",
        "aws",
    ),
    Fault("alarm-firing", "alarm mobilytics-local-api-5xx in ALARM", "alarms.none_firing", "aws"),
    Fault(
        "secret-missing", "/mobilytics/local/app-api/redis-auth deleted", "secrets.present", "aws"
    ),
    Fault("aws-throttled", "every AWS call answers ThrottlingException", "every AWS check", "aws"),
    Fault(
        "aws-access-denied", "every AWS call answers AccessDenied (403)", "every AWS check", "aws"
    ),
)

BY_NAME = {f.name: f for f in FAULTS}
AWS_FAULTS = frozenset(f.name for f in FAULTS if f.target == "aws")
API_FAULTS = frozenset(f.name for f in FAULTS if f.target == "api")


def lookup(name: str) -> Fault:
    """The fault called `name`; ValueError listing the known names otherwise."""
    try:
        return BY_NAME[name]
    except KeyError:
        known = ", ".join(f.name for f in FAULTS)
        raise ValueError(f"unknown fault {name!r}; known faults: {known}") from None
