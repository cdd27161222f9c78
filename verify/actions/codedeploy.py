"""Hook `codedeploy`: the traffic-shift gate of an ECS blue/green deployment.

PutLifecycleEventHookExecutionStatus: Succeeded on PASS, Failed otherwise (fail closed).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from verify.actions.base import Done, HookContext, HookError, aws_error

if TYPE_CHECKING:
    from verify.actions.models import CodeDeployHook

DEPLOYMENT_ENV = "VERIFY_CODEDEPLOY_DEPLOYMENT_ID"
EXECUTION_ENV = "VERIFY_CODEDEPLOY_HOOK_EXECUTION_ID"


def report(hook: CodeDeployHook, ctx: HookContext) -> Done:
    from botocore.exceptions import BotoCoreError, ClientError

    deployment = ctx.codedeploy_ids[0] or hook.deployment_id or os.environ.get(DEPLOYMENT_ENV)
    execution = ctx.codedeploy_ids[1] or hook.hook_execution_id or os.environ.get(EXECUTION_ENV)
    status = "Succeeded" if ctx.outcome == "pass" else "Failed"
    if not deployment or not execution:
        raise HookError(
            "no CodeDeploy deployment id or lifecycle hook execution id (--codedeploy-deployment-id"
            f" and --codedeploy-hook-execution-id, or ${DEPLOYMENT_ENV} and ${EXECUTION_ENV})",
            f"report {status} to the deployment's lifecycle hook by hand, or let it time out",
        )
    details = {"deployment_id": deployment, "status": status}
    if ctx.dry_run:
        return Done(f"would report {status} to CodeDeploy deployment {deployment}", False, details)
    try:
        ctx.aws.client("codedeploy").put_lifecycle_event_hook_execution_status(
            deploymentId=deployment, lifecycleEventHookExecutionId=execution, status=status
        )
    except (ClientError, BotoCoreError) as exc:
        raise HookError(
            f"CodeDeploy {deployment}: {aws_error(exc)}",
            f"aws deploy put-lifecycle-event-hook-execution-status --deployment-id {deployment} "
            f"--lifecycle-event-hook-execution-id {execution} --status {status}",
        ) from None
    return Done(f"reported {status} to CodeDeploy deployment {deployment}", True, details)
