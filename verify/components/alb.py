"""Component `alb`: the target groups behind the API's load balancer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from verify.config import Table
from verify.registry import Component, Probe, View

if TYPE_CHECKING:
    from verify.context import ProbeContext
    from verify.iam import Grant, Scope
    from verify.probes.aws.elb import TargetGroupsObservation


class AlbConfig(Table):
    target_groups: list[str] = Field(min_length=1, max_length=200)  # names or ARNs


def observe_targets(ctx: ProbeContext) -> TargetGroupsObservation:
    from verify.probes.aws import elb

    table: AlbConfig = ctx.table
    return elb.observe_target_groups(ctx.aws("elbv2"), ctx.aws("ec2"), table.target_groups)


def iam(table: AlbConfig, scope: Scope) -> list[Grant]:
    """ELBv2 and EC2 Describe* calls take no resource-level permissions: `*`, read-only."""
    from verify.iam import Grant

    actions = (
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetHealth",
        "ec2:DescribeNetworkInterfaces",  # the AZ of an IP target
        "ec2:DescribeInstances",  # the AZ of an instance target
    )
    return [Grant(actions, why="AlbTargets")]


COMPONENT = Component(
    name="alb",
    table=AlbConfig,
    checks="verify.checks.test_alb",
    probes=(Probe("alb.targets", observe_targets),),
    views=(View("alb_target_groups", "alb.targets"),),
    summary="target health and AZ spread of the API's target groups",
    iam=iam,
)
