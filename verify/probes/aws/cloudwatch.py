"""CloudWatch probe: the alarms of one environment (by name prefix)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from verify.probes.aws.calls import aws_errors

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient


@dataclass(frozen=True)
class Alarm:
    name: str
    kind: str  # metric | composite
    state: str  # OK | ALARM | INSUFFICIENT_DATA
    reason: str
    updated_at: datetime | None


def observe_alarms(cloudwatch: CloudWatchClient, prefix: str) -> list[Alarm]:
    """Every metric and composite alarm whose name starts with `prefix` (paginated)."""
    paginator = cloudwatch.get_paginator("describe_alarms")
    pages = paginator.paginate(AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    alarms: list[Alarm] = []
    with aws_errors(f"cloudwatch:DescribeAlarms prefix={prefix}", cloudwatch):
        for page in pages:
            alarms += [_alarm(raw, "metric") for raw in page.get("MetricAlarms", [])]
            alarms += [_alarm(raw, "composite") for raw in page.get("CompositeAlarms", [])]
    return sorted(alarms, key=lambda alarm: alarm.name)


def _alarm(raw: Any, kind: str) -> Alarm:
    return Alarm(
        name=raw.get("AlarmName", ""),
        kind=kind,
        state=raw.get("StateValue", "INSUFFICIENT_DATA"),
        reason=raw.get("StateReason", ""),
        updated_at=raw.get("StateUpdatedTimestamp"),
    )
