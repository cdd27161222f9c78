"""What one run knows, kept in pytest's stash so hooks and fixtures share it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pathlib import Path

    from verify.clients import AwsClients
    from verify.config import EnvConfig
    from verify.context import Deadline, RunResources
    from verify.registry import Registry
    from verify.scheduler import Scheduler


@dataclass
class Run:
    env: EnvConfig  # sandbox endpoints resolved once the sandbox is up
    registry: Registry
    release: str | None  # the release that must be live, when told (else discovered)
    release_source: str  # "--release", "$VERIFY_RELEASE", "sandbox", or "" (discover)
    settle_s: float
    rollback_mode: str
    deadline: Deadline
    reports_dir: Path
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started_monotonic: float = field(default_factory=time.monotonic)
    settle_deadline: float = 0.0  # monotonic; set when the probes start
    sandbox_dir: str | None = None
    sandbox_started: bool = False
    sandbox_dir_created: bool = False
    sandbox_token: str | None = None
    account_id: str | None = None
    aws_keys: tuple[str | None, str | None] = (None, None)  # the sandbox's; else the chain's
    aws: AwsClients | None = None
    resources: RunResources | None = None
    scheduler: Scheduler | None = None
    discovered: tuple[str | None, str] | None = None  # (release, how) when discovered
    worker_stats: list[dict[str, Any]] = field(default_factory=list)  # from xdist workers

    @property
    def settle_left(self) -> float:
        return max(min(self.settle_deadline, self.deadline.at) - time.monotonic(), 0.0)


RUN = pytest.StashKey[Run]()
CHECK_ID = pytest.StashKey[str]()
SKIP_REASON = pytest.StashKey[str]()  # the plugin's own skip of this check, with its reason
RECORD = pytest.StashKey[dict[str, Any]]()  # what the check recorded (observed, threshold, ...)


def current(config: pytest.Config) -> Run | None:
    """The run, or None when the plugin is inert (no --env: the project's own tests)."""
    return config.stash.get(RUN, None)
