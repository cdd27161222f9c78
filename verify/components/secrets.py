"""Component `secrets`: the secrets the services need exist (described, never read)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from verify.config import Table
from verify.registry import Component, Probe, View

if TYPE_CHECKING:
    from verify.context import ProbeContext
    from verify.iam import Grant, Scope
    from verify.probes.aws.secrets import SecretPresence


class SecretsConfig(Table):
    # Secrets Manager names (or ARNs); `ssm:NAME` for SSM parameters.
    required: list[str] = Field(min_length=1, max_length=500)


def observe_secrets(ctx: ProbeContext) -> list[SecretPresence]:
    """Describe every required secret at once: Secrets Manager one by one, SSM in batches."""
    from verify.probes.aws import secrets as probe
    from verify.probes.aws.calls import call_pool

    table: SecretsConfig = ctx.table
    in_ssm = [name.removeprefix("ssm:") for name in table.required if name.startswith("ssm:")]
    in_sm = [
        name.removeprefix("secretsmanager:")
        for name in table.required
        if not name.startswith("ssm:")
    ]
    client = ctx.aws("secretsmanager")
    with call_pool(16) as pool:
        described = [pool.submit(probe.observe_secret, client, name) for name in in_sm]
        listed = pool.submit(probe.observe_parameters, ctx.aws("ssm"), in_ssm) if in_ssm else None
        found = [future.result() for future in described]
        return found + (listed.result() if listed else [])


def iam(table: SecretsConfig, scope: Scope) -> list[Grant]:
    """DescribeSecret on each required secret (never its value); SSM's listing is unscoped."""
    from verify.iam import Grant, secret_arn

    names = [n.removeprefix("secretsmanager:") for n in table.required if not n.startswith("ssm:")]
    grants = []
    if names:
        described = tuple(sorted({secret_arn(name, scope) for name in names}))
        grants.append(Grant(("secretsmanager:DescribeSecret",), described, why="SecretsPresent"))
    if any(n.startswith("ssm:") for n in table.required):
        grants.append(Grant(("ssm:DescribeParameters",), why="ParametersPresent"))
    return grants


COMPONENT = Component(
    name="secrets",
    table=SecretsConfig,
    checks="verify.checks.test_secrets",
    probes=(Probe("secrets", observe_secrets),),
    views=(View("secret_presence", "secrets"),),
    summary="every required secret exists with a current value",
    iam=iam,
)
