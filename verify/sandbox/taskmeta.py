"""What the sandbox knows of ECS tasks and deployments that moto does not."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TaskMeta:
    """What ECS knows about a task and moto does not (placement, timing, how it stopped)."""

    arn: str
    service: str
    task_definition: str
    image: str
    az: str
    started_at: float
    stopped_at: float | None = None
    stop_code: str | None = None
    stopped_reason: str | None = None
    exit_code: int | None = None
    owner: str | None = None  # the fault whose effect keeps this stopped task listed
    forgotten: bool = False  # ECS no longer reports it (real ECS drops stopped tasks after ~1 h)

    @property
    def running(self) -> bool:
        """The task has not been stopped."""
        return self.stopped_at is None

    @property
    def id(self) -> str:
        """The task id (last ARN segment)."""
        return self.arn.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class DeploymentRecord:
    """A deployment of one task definition to one service."""

    id: str
    created_at: float
