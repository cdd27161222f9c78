"""Component `alarms`: the environment's CloudWatch alarms (metric and composite), by prefix."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from verify.config import Table
from verify.registry import Component, Probe, View

if TYPE_CHECKING:
    from verify.context import ProbeContext
    from verify.iam import Grant, Scope
    from verify.probes.aws.cloudwatch import Alarm


class AlarmsConfig(Table):
    prefix: str = Field(min_length=1)
    # A prefix typo must not pass as "no alarm firing": at least this many must report a state.
    min_alarms: int = Field(1, ge=1, le=10_000)


def observe_alarms(ctx: ProbeContext) -> list[Alarm]:
    from verify.probes.aws import cloudwatch

    table: AlarmsConfig = ctx.table
    return cloudwatch.observe_alarms(ctx.aws("cloudwatch"), table.prefix)


def iam(table: AlarmsConfig, scope: Scope) -> list[Grant]:
    """DescribeAlarms by name prefix: IAM cannot narrow a prefix listing to the prefix's ARNs."""
    from verify.iam import Grant

    return [Grant(("cloudwatch:DescribeAlarms",), why="Alarms")]


COMPONENT = Component(
    name="alarms",
    table=AlarmsConfig,
    checks="verify.checks.test_alarms",
    probes=(Probe("alarms", observe_alarms),),
    views=(View("alarms", "alarms"),),
    summary="no CloudWatch alarm with the prefix in ALARM",
    iam=iam,
)
