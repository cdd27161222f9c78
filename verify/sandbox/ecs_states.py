"""Stopped tasks the ECS faults and normal states leave listed, and how each stopped."""

from __future__ import annotations

from dataclasses import dataclass

from verify.sandbox import spec


@dataclass(frozen=True)
class StoppedRecipe:
    """Stopped tasks a fault (or a normal state) leaves listed: how and when they stopped."""

    count: int
    code: str
    reason: str
    exit_code: int | None  # None: the container never ran (TaskFailedToStart)
    previous_release: bool = False  # the tasks ran the previous revision (a deploy's old tasks)


TG_ARN_HINT = (
    f"arn:aws:elasticloadbalancing:{spec.REGION}:{spec.ACCOUNT_ID}:targetgroup/{spec.TARGET_GROUP}"
)
STOPPED = {
    "ecs-crash-loop": StoppedRecipe(
        3, "EssentialContainerExited", "Essential container in task exited", 1
    ),
    "ecs-task-failed-to-start": StoppedRecipe(
        2,
        "TaskFailedToStart",
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
        "retrieval failed: unable to retrieve secret from asm: service call has been retried 1 "
        "time(s): AccessDeniedException: not authorized to perform: secretsmanager:GetSecretValue",
        None,
    ),
    "ecs-health-check-replaced": StoppedRecipe(
        2,
        "ServiceSchedulerInitiated",
        f"Task failed ELB health checks in (target-group {TG_ARN_HINT})",
        143,
    ),
    # Normal: a rolling deploy stopped the previous release's tasks with SIGTERM (exit 143).
    "ecs-rolled": StoppedRecipe(
        2,
        "ServiceSchedulerInitiated",
        "Scaling activity initiated by (deployment {deployment})",
        143,
        True,
    ),
}
