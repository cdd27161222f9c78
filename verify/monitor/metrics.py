"""Monitor metrics: CloudWatch Embedded Metric Format on stdout, or PutMetricData.

Namespace `Mobilytics/Verify` (configurable); per check, dimensions Environment and Check:
CheckPassed (0/1) and CheckDuration (ms); per iteration, dimension Environment: SuccessPercent
and Duration (ms). Skipped checks publish nothing: a skip is neither up nor down.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from verify.monitor.iteration import Iteration

PUT_BATCH = 500  # PutMetricData takes up to 1,000 values and 1 MB a call: stay well inside


@dataclass(frozen=True)
class Datum:
    """One metric value with its dimensions."""

    name: str
    value: float
    unit: str
    dimensions: tuple[tuple[str, str], ...]


def data(iteration: Iteration) -> list[Datum]:
    """Every metric value of one iteration."""
    env = ("Environment", iteration.env)
    values: list[Datum] = []
    for sample in iteration.gating:
        dims = (env, ("Check", sample.check))
        values.append(Datum("CheckPassed", 1.0 if sample.passed else 0.0, "Count", dims))
        values.append(Datum("CheckDuration", sample.duration_ms, "Milliseconds", dims))
    values.append(Datum("SuccessPercent", iteration.success_percent, "Percent", (env,)))
    values.append(Datum("Duration", 1000.0 * iteration.duration_s, "Milliseconds", (env,)))
    return values


def emf_documents(iteration: Iteration, namespace: str) -> Iterator[dict[str, Any]]:
    """One EMF document per dimension set (a check, then the iteration), for awslogs."""
    timestamp = int(iteration.started_at.timestamp() * 1000)
    groups: dict[tuple[tuple[str, str], ...], list[Datum]] = {}
    for datum in data(iteration):
        groups.setdefault(datum.dimensions, []).append(datum)
    for dims, values in groups.items():
        document: dict[str, Any] = {
            "_aws": {
                "Timestamp": timestamp,
                "CloudWatchMetrics": [
                    {
                        "Namespace": namespace,
                        "Dimensions": [[name for name, _ in dims]],
                        "Metrics": [{"Name": d.name, "Unit": d.unit} for d in values],
                    }
                ],
            },
            **dict(dims),
        }
        document.update({d.name: d.value for d in values})
        yield document


def write_emf(iteration: Iteration, namespace: str, write: Callable[[str], Any]) -> int:
    """Write the iteration's EMF documents, one JSON line each; returns how many."""
    count = 0
    for document in emf_documents(iteration, namespace):
        write(json.dumps(document, separators=(",", ":")) + "\n")
        count += 1
    return count


def put_metric_data(iteration: Iteration, namespace: str, cloudwatch: Any) -> int:
    """PutMetricData of the iteration's values (batched); returns the number of calls."""
    timestamp = iteration.started_at
    items = [
        {
            "MetricName": d.name,
            "Value": d.value,
            "Unit": d.unit,
            "Timestamp": timestamp,
            "Dimensions": [{"Name": k, "Value": v} for k, v in d.dimensions],
        }
        for d in data(iteration)
    ]
    calls = 0
    for start in range(0, len(items), PUT_BATCH):
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=items[start : start + PUT_BATCH])
        calls += 1
    return calls
