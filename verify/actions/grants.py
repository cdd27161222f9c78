"""The rollback hooks' role: the IAM grants each configured hook needs, scoped to what it names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from verify.actions.models import (
        CloudFrontHook,
        CodeDeployHook,
        CommandHook,
        EcsHook,
        S3AssetSetHook,
        SnsHook,
        WebhookHook,
    )
    from verify.config import EnvConfig
    from verify.iam import Grant, Scope


def hook_grants(env: EnvConfig, scope: Scope) -> list[Grant]:
    """What the environment's rollback hooks call, hook by hook."""
    grants: list[Grant] = []
    for hook in env.spec.rollback.hooks:
        grants += _GRANTS[hook.type](hook, env, scope)
    return grants


def _ecs(hook: EcsHook, env: EnvConfig, scope: Scope) -> list[Grant]:
    from verify.components.ecs import service_arns
    from verify.iam import Grant

    ecs = getattr(env.spec, "ecs", None)
    _, arns = service_arns(
        hook.cluster or (ecs.cluster if ecs else "*"),
        hook.services or (sorted(ecs.services) if ecs else ["*"]),
        scope,
    )
    return [
        Grant(("ecs:DescribeServices", "ecs:UpdateService"), arns, why="RollbackEcsServices"),
        # Task definitions and their listing cannot be scoped to resources.
        Grant(
            ("ecs:ListTaskDefinitions", "ecs:DescribeTaskDefinition"), why="RollbackEcsRevisions"
        ),
    ]


def _s3(hook: S3AssetSetHook, env: EnvConfig, scope: Scope) -> list[Grant]:
    from verify.iam import Grant

    bucket, key = hook.bucket, hook.pointer_key
    grants = [
        Grant(
            ("s3:ListBucketVersions",),
            (f"arn:{scope.partition}:s3:::{bucket}",),
            condition={"StringEquals": {"s3:prefix": key}},
            why="RollbackAssetPointerVersions",
        ),
        Grant(
            ("s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"),
            (f"arn:{scope.partition}:s3:::{bucket}/{key}",),
            why="RollbackAssetPointer",
        ),
    ]
    if hook.distribution_id:
        grants += _invalidate(hook.distribution_id, scope)
    return grants


def _cloudfront(hook: CloudFrontHook, env: EnvConfig, scope: Scope) -> list[Grant]:
    return _invalidate(hook.distribution_id, scope)


def _invalidate(distribution_id: str, scope: Scope) -> list[Grant]:
    from verify.iam import Grant

    distribution = scope.arn("cloudfront", f"distribution/{distribution_id}", regional=False)
    return [
        Grant(
            ("cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"),
            (distribution,),
            why="RollbackInvalidate",
        )
    ]


def _codedeploy(hook: CodeDeployHook, env: EnvConfig, scope: Scope) -> list[Grant]:
    from verify.iam import Grant

    # The lifecycle hook's deployment group is known per deployment, not from the config.
    return [Grant(("codedeploy:PutLifecycleEventHookExecutionStatus",), why="RollbackCodeDeploy")]


def _webhook(hook: WebhookHook, env: EnvConfig, scope: Scope) -> list[Grant]:
    from verify.iam import secret_grants

    return secret_grants([hook.url], scope, "RollbackWebhook")


def _sns(hook: SnsHook, env: EnvConfig, scope: Scope) -> list[Grant]:
    from verify.iam import Grant

    return [Grant(("sns:Publish",), (hook.topic_arn,), why="RollbackSns")]


def _nothing(hook: CommandHook, env: EnvConfig, scope: Scope) -> list[Grant]:
    return []  # `command` runs with its own credentials


# Each function takes its own hook model; the table is keyed by the `type` the config validated.
_GRANTS: dict[str, Any] = {
    "ecs-previous-task-definition": _ecs,
    "s3-asset-set": _s3,
    "cloudfront-invalidate": _cloudfront,
    "codedeploy": _codedeploy,
    "command": _nothing,
    "webhook": _webhook,
    "sns": _sns,
}
