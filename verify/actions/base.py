"""What every hook gets and gives back: a context in, one HookResult out."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from verify.deliver import aws_error as aws_error  # the hooks' one-line AWS errors

if TYPE_CHECKING:
    from verify.clients import AwsClients
    from verify.config import EnvConfig

Status = Literal["ok", "failed", "skipped", "dry-run"]


class HookError(Exception):
    """A hook could not do its job: `message` says what happened, `manual` what is left by hand."""

    def __init__(self, message: str, manual: str) -> None:
        super().__init__(message)
        self.message = message
        self.manual = manual


@dataclass
class HookResult:
    name: str
    type: str
    status: Status
    message: str
    duration_s: float = 0.0
    changed: bool = False  # the hook changed the platform (False: already done, or dry-run)
    manual: str | None = None  # what a person must still do, when the hook failed
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        entry = asdict(self)
        entry["duration_s"] = round(self.duration_s, 3)
        return entry


@dataclass
class HookContext:
    """The verdict a hook acts on and what it may use; `ends` is its monotonic deadline."""

    env: EnvConfig
    outcome: str  # pass | fail | error
    reason: str
    release: str | None  # the release the gate verified (the failing one on FAIL)
    verdict_path: Path
    dry_run: bool
    aws: AwsClients
    ends: float
    poll_s: float = 2.0
    codedeploy_ids: tuple[str | None, str | None] = (None, None)
    summary: str = ""  # one paragraph for people (webhook, SNS)
    previous: list[HookResult] = field(default_factory=list)  # results of the hooks before

    def left(self) -> float:
        return max(self.ends - time.monotonic(), 0.0)

    def sleep(self, seconds: float) -> None:
        """Sleep up to `seconds`, never past the hook's deadline."""
        time.sleep(max(min(seconds, self.left()), 0.0))


@dataclass(frozen=True)
class Done:
    """What a hook did (or, in dry-run, would do)."""

    message: str
    changed: bool = False
    details: dict[str, Any] = field(default_factory=dict)
