"""What one run knows, kept in pytest's stash so hooks and fixtures share it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from verify.clients import AwsClients
    from verify.config import EnvConfig
    from verify.observe import Observations
    from verify.verdict import CheckResult


@dataclass
class Run:
    env: EnvConfig  # sandbox endpoints resolved once the sandbox is up
    release: str | None
    settle_s: float
    rollback_mode: str
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started_monotonic: float = field(default_factory=time.monotonic)
    settle_deadline: float = 0.0  # monotonic; set when the probes start
    sandbox_dir: str | None = None
    sandbox_started: bool = False
    account_id: str | None = None
    aws_keys: tuple[str | None, str | None] = (None, None)  # the sandbox's; else the chain's
    observations: Observations | None = None
    aws: AwsClients | None = None
    results: dict[str, CheckResult] = field(default_factory=dict)  # nodeid -> result
    collection_errors: list[str] = field(default_factory=list)


RUN = pytest.StashKey[Run]()
CHECK_ID = pytest.StashKey[str]()


def current(config: pytest.Config) -> Run | None:
    """The run, or None when the plugin is inert (no --env: the project's own tests)."""
    return config.stash.get(RUN, None)
