"""Component `queues`: the BullMQ queues on the environment's Redis (read through `redis`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, Field, model_validator

from verify.config import Table
from verify.registry import Component, Probe, View

if TYPE_CHECKING:
    from collections.abc import Mapping

    from verify.context import ProbeContext
    from verify.probes.bullmq import QueuesObservation, QueueState
    from verify.probes.canary import CanaryObservation


def _queue_name(value: str) -> str:
    if (
        not value
        or len(value) > 100
        or ":" in value
        or not value.isprintable()
        or value.strip() != value
    ):
        raise ValueError(
            f"{value!r} is not a BullMQ queue name (1-100 printable characters, no ':')"
        )
    return value


QueueName = Annotated[str, AfterValidator(_queue_name)]


class QueueOverrides(Table):
    """One queue's own thresholds (each unset one is the run's `queue_*` threshold)."""

    oldest_wait_s: float | None = Field(None, gt=0, le=7 * 86_400)
    max_waiting: int | None = Field(None, ge=0, le=100_000_000)
    max_failed: int | None = Field(None, ge=0, le=100_000_000)
    failed_window_s: float | None = Field(None, gt=0, le=86_400)
    delayed_grace_s: float | None = Field(None, ge=0, le=86_400)
    max_stalled: int | None = Field(None, ge=0, le=100_000)
    min_workers: int | None = Field(None, ge=0, le=10_000)


class QueuesConfig(Table):
    names: list[QueueName] = Field(min_length=1, max_length=1000)
    prefix: str = Field("bull", min_length=1, max_length=64, pattern=r"^[^\s]+$")
    per_queue: dict[str, QueueOverrides] = Field(default_factory=dict)
    scan_limit: int = Field(100, ge=1, le=10_000)  # waiting/active jobs read per queue and list
    canary_queue: QueueName | None = None  # queues.canary enqueues `verify-canary` here

    @model_validator(mode="after")
    def _known_queues(self) -> QueuesConfig:
        if len(set(self.names)) != len(self.names):
            raise ValueError("names: a queue is listed twice")
        unknown = sorted(set(self.per_queue) - set(self.names))
        if unknown:
            raise ValueError(f"per_queue: {unknown[0]!r} is not in names")
        if self.canary_queue is not None and self.canary_queue not in self.names:
            raise ValueError(f"canary_queue {self.canary_queue!r} is not in names")
        return self


class QueuesThresholds(Table):
    queue_oldest_wait_s: float = Field(120, gt=0, le=7 * 86_400)  # oldest waiting job's age
    queue_max_waiting: int = Field(1000, ge=0, le=100_000_000)  # waiting + prioritized jobs
    queue_max_failed: int = Field(10, ge=0, le=100_000_000)  # failed within the window
    queue_failed_window_s: float = Field(300, gt=0, le=86_400)
    queue_delayed_grace_s: float = Field(60, ge=0, le=86_400)  # due delayed jobs not promoted
    queue_max_stalled: int = Field(0, ge=0, le=100_000)  # active jobs whose lock expired
    queue_min_workers: int = Field(1, ge=0, le=10_000)
    queue_canary_timeout_s: float = Field(15, gt=0, le=300)


@dataclass(frozen=True)
class Limit:
    """One threshold of one queue and where it came from (for the check's message)."""

    value: float
    source: str


def limit(table: QueuesConfig, thresholds: Any, queue: str, field: str) -> Limit:
    """`field` of `queue`: its per_queue override, else the run's `queue_<field>` threshold."""
    override = (
        getattr(table.per_queue.get(queue), field, None) if queue in table.per_queue else None
    )
    if override is not None:
        return Limit(override, f"queues.per_queue.{queue}.{field}")
    return Limit(getattr(thresholds, f"queue_{field}"), f"queue_{field}")


def observe_queues(ctx: ProbeContext) -> QueuesObservation:
    from verify.components.redis import handle
    from verify.probes import bullmq

    table: QueuesConfig = ctx.table
    limits = {
        name: bullmq.QueueLimits(
            window_s=limit(table, ctx.thresholds, name, "failed_window_s").value,
            grace_s=limit(table, ctx.thresholds, name, "delayed_grace_s").value,
        )
        for name in table.names
    }
    return bullmq.observe(handle(ctx), table.prefix, limits, table.scan_limit,
                          ctx.timeout(ctx.thresholds.redis_timeout_s))  # fmt: skip


def observe_canary(ctx: ProbeContext) -> CanaryObservation:
    from verify.components.redis import handle
    from verify.probes import canary
    from verify.probes.errors import ProbeError

    table: QueuesConfig = ctx.table
    if table.canary_queue is None:
        raise ProbeError("queues.canary", "no canary_queue configured for this environment")
    wait_s = ctx.timeout(ctx.thresholds.queue_canary_timeout_s)
    return canary.run(handle(ctx), table.prefix, table.canary_queue, wait_s,
                      lambda: ctx.timeout(ctx.thresholds.redis_timeout_s))  # fmt: skip


def queue_of(observation: QueuesObservation, params: Mapping[str, Any]) -> QueueState:
    return observation.queues[params["queue_name"]]


COMPONENT = Component(
    name="queues",
    table=QueuesConfig,
    thresholds=QueuesThresholds,
    checks="verify.checks.test_queues",
    probes=(Probe("queues.state", observe_queues), Probe("queues.canary", observe_canary)),
    views=(
        View("queue_state", "queues.state", queue_of, params=("queue_name",)),
        View("queues_state", "queues.state"),
        View("queue_canary", "queues.canary"),
    ),
    params={"queue_name": lambda table: list(table.names)},
    summary="BullMQ queues consumed: lag, backlog, paused, workers, delayed, failures, stalls, canary",
)
