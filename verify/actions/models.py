"""The `rollback` table of environments.toml: mode, triggers, re-verification and hooks."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from verify.config import SecretRef, Table, bind_rollback

Outcome = Literal["pass", "fail", "error"]
ROLLBACK_KINDS = (
    "ecs-previous-task-definition",
    "s3-asset-set",
    "cloudfront-invalidate",
    "command",
)
NOTIFY_KINDS = ("codedeploy", "webhook", "sns")


class HookBase(Table):
    """What every hook has: a name for the report, its own time budget, when it runs."""

    type: str
    name: str | None = Field(None, min_length=1, max_length=80)
    timeout_s: float = Field(120, gt=0, le=3600)
    # Verdicts this hook runs on. Default: rollback hooks on the table's `on`; notifiers on all.
    on: list[Outcome] | None = Field(None, min_length=1)


class EcsHook(HookBase):
    type: Literal["ecs-previous-task-definition"]
    cluster: str | None = None  # default: the environment's ecs.cluster
    services: list[str] = Field(
        default_factory=list
    )  # default: every service of the environment's ecs table
    wait_stable: bool = False  # poll (<= settle_poll_s) until the rollback's rollout completes


class S3AssetSetHook(HookBase):
    type: Literal["s3-asset-set"]
    bucket: str = Field(min_length=3, max_length=63)
    pointer_key: str = Field("current-release.json", min_length=1)
    distribution_id: str | None = None  # then invalidate `paths` on it
    paths: list[str] = Field(["/*"], min_length=1, max_length=3000)


class CloudFrontHook(HookBase):
    type: Literal["cloudfront-invalidate"]
    distribution_id: str = Field(min_length=1)
    paths: list[str] = Field(["/*"], min_length=1, max_length=3000)


class CodeDeployHook(HookBase):
    type: Literal["codedeploy"]
    # Usually given per run: --codedeploy-deployment-id / $VERIFY_CODEDEPLOY_DEPLOYMENT_ID.
    deployment_id: str | None = None
    hook_execution_id: str | None = None


class CommandHook(HookBase):
    type: Literal["command"]
    argv: list[str] = Field(min_length=1)


class WebhookHook(HookBase):
    type: Literal["webhook"]
    url: SecretRef  # the URL is a credential (Slack's carries its token): a secret reference


class SnsHook(HookBase):
    type: Literal["sns"]
    topic_arn: str = Field(min_length=1)


Hook = Annotated[
    EcsHook
    | S3AssetSetHook
    | CloudFrontHook
    | CodeDeployHook
    | CommandHook
    | WebhookHook
    | SnsHook,
    Field(discriminator="type"),
]


class RollbackConfig(Table):
    mode: Literal["off", "dry-run", "auto"] = "off"
    on: list[Literal["fail", "error"]] = Field(["fail", "error"], min_length=1)
    reverify: bool = True
    hooks: list[Hook] = Field(default_factory=list)


def hook_name(hook: HookBase) -> str:
    """The name a hook reports under: its own, else its type."""
    return hook.name or str(hook.type)


def runs_on(hook: HookBase, outcome: str, rollback_on: list[str]) -> bool:
    """Whether `hook` runs after a verdict of `outcome`."""
    if hook.on is not None:
        return outcome in hook.on
    if hook.type in NOTIFY_KINDS:
        return True
    return outcome in rollback_on


bind_rollback(RollbackConfig)
