"""Least-privilege IAM: what the selected checks (or the monitor, or the rollback hooks) may call.

Each component declares its grants (`Component.iam`: a function of its table and an `Scope`),
scoped to the resources its table names wherever the API can be scoped; `policy()` merges the
grants of the components a marker expression selects into one IAM policy document.
"""

from __future__ import annotations

import importlib.metadata
import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from verify.config import EnvConfig
    from verify.registry import Component, Registry

POLICY_VERSION = "2012-10-17"
# A team's own rollback hooks declare their role's grants here: a function of (EnvConfig, Scope)
# returning Grants, named under this entry point group (the built-in hooks: verify.actions.grants).
ROLLBACK_ENTRY_POINT = "verify.rollback_iam"


@dataclass(frozen=True)
class Grant:
    """Actions on resources (optionally under one condition), with why they are needed."""

    actions: tuple[str, ...]
    resources: tuple[str, ...] = ("*",)
    condition: dict[str, dict[str, str]] | None = field(default=None, compare=False, hash=False)
    why: str = ""


@dataclass(frozen=True)
class Scope:
    """What grants are scoped to: the account and region (`*` where the config leaves them
    open), and whether the release is known without discovering it from the task definition."""

    partition: str
    region: str
    account: str
    release_known: bool = False

    @classmethod
    def of(cls, env: EnvConfig, account_id: str | None = None) -> Scope:
        region = env.region or "*"
        partition = "aws"
        if region.startswith("cn-"):
            partition = "aws-cn"
        elif region.startswith("us-gov-"):
            partition = "aws-us-gov"
        account = account_id or env.spec.aws.account_id or "*"
        return cls(partition, region, account, release_known=env.spec.release_from == "sandbox")

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.account}:{resource}"


def secret_grants(references: Iterable[str | None], scope: Scope, why: str) -> list[Grant]:
    """GetSecretValue / GetParameter on exactly the secrets the references name."""
    secrets: set[str] = set()
    parameters: set[str] = set()
    for reference in references:
        if not reference:
            continue
        scheme, _, name = reference.partition(":")
        if scheme == "secretsmanager":
            secrets.add(secret_arn(name.split("#", 1)[0], scope))
        elif scheme == "ssm":
            parameters.add(parameter_arn(name, scope))
    grants = []
    if secrets:
        grants.append(Grant(("secretsmanager:GetSecretValue",), tuple(sorted(secrets)), why=why))
    if parameters:
        grants.append(Grant(("ssm:GetParameter",), tuple(sorted(parameters)), why=why))
    return grants


def secret_arn(name: str, scope: Scope) -> str:
    """A secret named `name` (or its full ARN); Secrets Manager appends `-` and 6 characters."""
    if name.startswith("arn:"):
        return name
    return scope.arn("secretsmanager", f"secret:{name}-??????")


def parameter_arn(name: str, scope: Scope) -> str:
    if name.startswith("arn:"):
        return name
    return scope.arn("ssm", f"parameter/{name.lstrip('/')}")


def selected(registry: Registry, env: EnvConfig, markexpr: str) -> list[Component]:
    """The configured components with at least one check that `markexpr` selects."""
    from _pytest.mark.expression import Expression

    expression = Expression.compile(markexpr)
    chosen = []
    for component in registry:
        if not env.configures(component.name):
            continue
        if any(expression.evaluate(_matcher(marks)) for marks in _check_marks(component)):
            chosen.append(component)
    return chosen


def _matcher(marks: set[str]) -> Callable[..., bool]:
    return lambda name, **_: name in marks


def _check_marks(component: Component) -> list[set[str]]:
    """The marker names of every check of the component (module and function marks)."""
    import importlib

    module = importlib.import_module(component.checks)
    module_marks = getattr(module, "pytestmark", [])
    module_names = {
        m.name for m in (module_marks if isinstance(module_marks, list) else [module_marks])
    }
    marks = []
    for attr, value in vars(module).items():
        if attr.startswith("test_") and inspect.isfunction(value):
            own = {m.name for m in getattr(value, "pytestmark", [])}
            marks.append(module_names | own)
    return marks


def grants_of(components: Sequence[Component], env: EnvConfig, scope: Scope) -> list[Grant]:
    grants: list[Grant] = []
    for component in components:
        if component.iam is not None:
            grants.extend(component.iam(env.table(component.name), scope))
    return grants


def monitor_grants(env: EnvConfig, scope: Scope) -> list[Grant]:
    """What `verify monitor` itself calls, beyond the checks: metrics and alert channels."""
    monitor = env.spec.monitor
    grants = []
    if monitor.metrics == "put_metric_data":
        grants.append(
            Grant(
                ("cloudwatch:PutMetricData",),
                condition={"StringEquals": {"cloudwatch:namespace": monitor.namespace}},
                why="MonitorMetrics",
            )
        )
    if monitor.alerts.sns_topic_arn:
        grants.append(Grant(("sns:Publish",), (monitor.alerts.sns_topic_arn,), why="MonitorAlerts"))
    grants.extend(secret_grants([monitor.alerts.webhook], scope, "MonitorWebhook"))
    return grants


def rollback_grants(env: EnvConfig, scope: Scope) -> list[Grant]:
    """The rollback hooks' role: the configured hooks' grants, plus installed providers' (a
    team's own hooks)."""
    from verify.actions.grants import hook_grants

    grants = hook_grants(env, scope)
    for entry in importlib.metadata.entry_points(group=ROLLBACK_ENTRY_POINT):
        provider = entry.load()
        grants.extend(provider(env, scope))
    return grants


def document(grants: Sequence[Grant]) -> dict[str, Any]:
    """One policy: grants with the same resources and condition share a statement."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for grant in grants:
        condition = _frozen(grant.condition)
        key = (tuple(sorted(set(grant.resources))), condition)
        bucket = merged.setdefault(
            key, {"why": [], "actions": set(), "resources": key[0], "condition": grant.condition}
        )
        bucket["actions"].update(grant.actions)
        if grant.why and grant.why not in bucket["why"]:
            bucket["why"].append(grant.why)
    statements = []
    for entry in sorted(merged.values(), key=lambda s: (sorted(s["actions"]), s["resources"])):
        resources = list(entry["resources"])
        why = entry["why"]
        statement: dict[str, Any] = {
            # One reason names the statement; unscoped read-only calls of several share one.
            "Sid": why[0]
            if len(why) == 1
            else ("ReadOnlyUnscoped" if resources == ["*"] else "Verify"),
            "Effect": "Allow",
            "Action": sorted(entry["actions"]),
            "Resource": resources[0] if len(resources) == 1 else resources,
        }
        if entry["condition"]:
            statement["Condition"] = entry["condition"]
        statements.append(statement)
    _unique_sids(statements)
    return {"Version": POLICY_VERSION, "Statement": statements}


def _frozen(condition: dict[str, dict[str, str]] | None) -> tuple[Any, ...]:
    if not condition:
        return ()
    return tuple(sorted((op, tuple(sorted(body.items()))) for op, body in condition.items()))


def _unique_sids(statements: list[dict[str, Any]]) -> None:
    seen: dict[str, int] = {}
    for statement in statements:
        sid = "".join(ch for ch in statement["Sid"] if ch.isalnum()) or "Verify"
        seen[sid] = seen.get(sid, 0) + 1
        statement["Sid"] = sid if seen[sid] == 1 else f"{sid}{seen[sid]}"


def policy(
    env: EnvConfig, registry: Registry, markexpr: str, *, monitor: bool = False
) -> dict[str, Any]:
    """The policy document of the checks `markexpr` selects (plus the monitor's own calls)."""
    scope = Scope.of(env)
    grants = grants_of(selected(registry, env, markexpr), env, scope)
    if monitor:
        grants.extend(monitor_grants(env, scope))
    return document(grants)
