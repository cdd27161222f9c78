"""Check results -> one verdict: PASS, FAIL or ERROR (fail closed), with the reason in words."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any, Literal

from verify.text import plural

Status = Literal["passed", "failed", "error", "skipped"]
Outcome = Literal["pass", "fail", "error"]
SCHEMA_VERSION = 1
STATUSES = ("passed", "failed", "error", "skipped")


@dataclass
class CheckResult:
    id: str
    component: str
    status: Status
    severity: str = "critical"
    duration_s: float = 0.0
    message: str = ""
    observed: Any = None
    threshold: Any = None
    attempts: int = 1
    flaky: bool = False
    first_failure: str | None = None  # what a flaky check saw before it passed
    waived: str | None = None  # the waiver's reason
    evidence: list[str] = field(default_factory=list)

    @property
    def gates(self) -> bool:
        """Counts toward the verdict: ran or should have, critical, not waived."""
        return self.status != "skipped" and self.severity == "critical" and self.waived is None

    def to_json(self) -> dict[str, Any]:
        entry = asdict(self)
        entry["duration_s"] = round(self.duration_s, 3)
        return entry


@dataclass
class Verdict:
    env: str
    outcome: Outcome
    reason: str
    release: str | None
    started_at: datetime
    finished_at: datetime
    checks: list[CheckResult]
    rollback: dict[str, Any]
    release_source: str = ""
    expected: list[str] = field(default_factory=list)
    selection: dict[str, Any] = field(default_factory=dict)
    probes: list[dict[str, Any]] = field(default_factory=list)
    aws_calls: int | None = None
    exit_code: int = 0

    @property
    def duration_s(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def count(self, status: str) -> int:
        if status == "flaky":
            return sum(c.flaky for c in self.checks)
        if status == "waived":
            return sum(c.waived is not None for c in self.checks)
        return sum(c.status == status for c in self.checks)

    def counts(self) -> dict[str, int]:
        return {s: self.count(s) for s in (*STATUSES, "flaky", "waived")}


def apply_waivers(checks: list[CheckResult], waivers: list[tuple[str, str, list[str]]]) -> None:
    """Mark checks an active waiver (`pattern`, `reason`, `covers`) covers: FAIL, or ERROR too."""
    covered = {"failed": "fail", "error": "error"}
    for result in checks:
        kind = covered.get(result.status)
        if kind is None:
            continue
        for pattern, reason, covers in waivers:
            base = result.id.split("[")[0]
            if kind in covers and (fnmatchcase(result.id, pattern) or fnmatchcase(base, pattern)):
                result.waived = reason
                break


def decide(checks: list[CheckResult], run_error: str | None = None) -> tuple[Outcome, str]:
    """FAIL when a gating check observed the platform out of bounds; ERROR when one could not
    observe or did not run, nothing gating ran, or the run itself broke; PASS otherwise."""
    gating = [c for c in checks if c.gates]
    failed = [c for c in gating if c.status == "failed"]
    errored = [c for c in gating if c.status == "error"]
    total = len(checks)
    if failed:
        return "fail", f"{len(failed)} of {plural(total, 'check')} failed"
    if run_error:
        return "error", run_error
    if errored:
        not_run = [c for c in errored if c.message.startswith(("not run", "interrupted"))]
        if len(not_run) == len(errored):
            return "error", f"{len(not_run)} of {plural(total, 'check')} not run"
        return "error", f"{len(errored)} of {plural(total, 'check')} could not observe"
    if not gating:
        return (
            "error",
            f"zero gating checks: all {plural(total, 'check')} skipped, waived or warning-only",
        )
    return "pass", f"{plural(len(gating), 'gating check')} passed"


def to_json(verdict: Verdict) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "env": verdict.env,
        "verdict": verdict.outcome,
        "reason": verdict.reason,
        "exit_code": verdict.exit_code,
        "release": verdict.release,
        "release_source": verdict.release_source,
        "started_at": verdict.started_at.isoformat(),
        "finished_at": verdict.finished_at.isoformat(),
        "duration_s": round(verdict.duration_s, 3),
        "counts": verdict.counts(),
        "expected": verdict.expected,
        "selection": verdict.selection,
        "checks": [result.to_json() for result in verdict.checks],
        "rollback": verdict.rollback,
        "probes": verdict.probes,
        "aws_calls": verdict.aws_calls,
    }


def provisional(env: str | None, started_at: datetime, reason: str) -> dict[str, Any]:
    """The verdict a run leaves until it finishes: ERROR, never an old PASS."""
    return {
        "schema_version": SCHEMA_VERSION,
        "env": env,
        "verdict": "error",
        "reason": reason,
        "exit_code": None,
        "release": None,
        "started_at": started_at.isoformat(),
        "finished_at": None,
        "counts": {s: 0 for s in (*STATUSES, "flaky", "waived")},
        "expected": [],
        "checks": [],
        "rollback": {"mode": "off", "triggered": False, "hooks": []},
    }
