"""Alerting without storms: one alert after N consecutive failures of a check, one recovery.

The state (per check: consecutive failures, whether an alert is out) lives in a small JSON file,
so `--once` runs from a scheduler count failures across runs exactly like a long-running loop.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verify.redact import REDACT
from verify.text import one_line

if TYPE_CHECKING:
    from verify.monitor.iteration import Iteration

STATE_VERSION = 1


@dataclass(frozen=True)
class Event:
    """An alert (a check failed `failures` times in a row) or its recovery."""

    kind: str  # alert | recovery
    env: str
    check: str
    status: str
    failures: int
    since: str
    message: str

    def text(self) -> str:
        if self.kind == "alert":
            return (
                f"[verify {self.env}] ALERT {self.check}: {self.status} {self.failures} times in a "
                f"row since {self.since}: {self.message}"
            )
        return f"[verify {self.env}] RECOVERED {self.check}: passing again (failing since {self.since})"

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.kind,
            "env": self.env,
            "check": self.check,
            "status": self.status,
            "failures": self.failures,
            "since": self.since,
            "message": self.message,
            "text": self.text(),  # what Slack-style webhooks show
        }


class AlertState:
    """Per check: consecutive failures, when they began, and whether an alert went out."""

    def __init__(self, checks: dict[str, dict[str, Any]] | None = None) -> None:
        self.checks: dict[str, dict[str, Any]] = checks or {}

    @classmethod
    def load(cls, path: Path) -> AlertState:
        """The saved state; a missing or unreadable file starts afresh (said on stderr by caller)."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(raw, dict) or raw.get("version") != STATE_VERSION:
            return cls()
        checks = raw.get("checks")
        return cls(checks if isinstance(checks, dict) else {})

    def save(self, path: Path) -> None:
        from verify.writers import write_json

        write_json({"version": STATE_VERSION, "checks": self.checks}, path)

    def update(self, iteration: Iteration, alert_after: int) -> list[Event]:
        """Fold one iteration in; the events to send (at most one per check and transition)."""
        events: list[Event] = []
        now = iteration.started_at.isoformat(timespec="seconds")
        for sample in iteration.alert_samples:
            if sample.status == "skipped":
                continue  # a skip is neither up nor down
            entry = self.checks.setdefault(
                sample.check, {"failures": 0, "alerting": False, "since": None}
            )
            if sample.passed:
                if entry["alerting"]:
                    # Stays alerting until the recovery is delivered: a lost one is retried.
                    events.append(self._event("recovery", iteration, sample.check, entry, ""))
                    entry["failures"] = 0
                else:
                    self.checks[sample.check] = {"failures": 0, "alerting": False, "since": None}
                continue
            entry["failures"] = int(entry.get("failures") or 0) + 1
            entry["since"] = entry.get("since") or now
            entry["status"] = sample.status
            if entry["failures"] >= alert_after and not entry["alerting"]:
                message = one_line(REDACT(sample.message))[:500]
                events.append(self._event("alert", iteration, sample.check, entry, message))
        return events

    @staticmethod
    def _event(
        kind: str, iteration: Iteration, check: str, entry: dict[str, Any], message: str
    ) -> Event:
        return Event(
            kind,
            iteration.env,
            check,
            str(entry.get("status") or "failed"),
            int(entry.get("failures") or 0),
            str(entry.get("since")),
            message,
        )

    def delivered(self, event: Event) -> None:
        """An alert is out: no more until it recovers; a recovery is out: the slate is clean."""
        if event.kind == "alert":
            self.checks[event.check]["alerting"] = True
        else:
            self.checks[event.check] = {"failures": 0, "alerting": False, "since": None}
