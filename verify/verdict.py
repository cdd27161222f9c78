"""Check outcomes -> one verdict (pass / fail / error, fail closed) and its writers."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal

Status = Literal["passed", "failed", "error", "skipped"]
Outcome = Literal["pass", "fail", "error"]
SCHEMA_VERSION = 1


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
    waived: str | None = None  # the waiver's reason
    evidence: list[str] = field(default_factory=list)

    @property
    def gates(self) -> bool:
        """Counts toward the verdict: ran, critical, not waived."""
        return self.status != "skipped" and self.severity == "critical" and self.waived is None


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
    probes: list[dict[str, Any]] = field(default_factory=list)
    aws_calls: int | None = None

    @property
    def duration_s(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def count(self, status: str) -> int:
        if status == "flaky":
            return sum(c.flaky for c in self.checks)
        if status == "waived":
            return sum(c.waived is not None for c in self.checks)
        return sum(c.status == status for c in self.checks)


def apply_waivers(checks: list[CheckResult], waivers: list[tuple[str, str]]) -> None:
    """Mark failing checks matched by an active waiver (`pattern`, `reason`)."""
    for result in checks:
        if result.status in ("failed", "error"):
            for pattern, reason in waivers:
                if fnmatchcase(result.id, pattern) or fnmatchcase(result.id.split("[")[0], pattern):
                    result.waived = reason
                    break


def decide(checks: list[CheckResult], extra_errors: list[str]) -> tuple[Outcome, str]:
    """FAIL when a gating check observed the platform out of bounds; ERROR when one could not
    observe, nothing gating ran, or the run itself broke; PASS otherwise."""
    gating = [c for c in checks if c.gates]
    failed = [c for c in gating if c.status == "failed"]
    errored = [c for c in gating if c.status == "error"]
    if failed:
        return "fail", f"{len(failed)} check(s) failed"
    if extra_errors:
        return "error", extra_errors[0]
    if errored:
        return "error", f"{len(errored)} check(s) could not observe"
    if not gating:
        return "error", "zero gating checks ran"
    return "pass", f"{len(gating)} gating check(s) passed"


def to_json(verdict: Verdict) -> dict[str, Any]:
    statuses = ("passed", "failed", "error", "skipped", "flaky", "waived")
    checks = []
    for result in verdict.checks:
        entry = asdict(result)
        entry["duration_s"] = round(result.duration_s, 3)
        checks.append(entry)
    return {
        "schema_version": SCHEMA_VERSION,
        "env": verdict.env,
        "verdict": verdict.outcome,
        "reason": verdict.reason,
        "release": verdict.release,
        "started_at": verdict.started_at.isoformat(),
        "finished_at": verdict.finished_at.isoformat(),
        "duration_s": round(verdict.duration_s, 3),
        "counts": {status: verdict.count(status) for status in statuses},
        "checks": checks,
        "rollback": verdict.rollback,
        "probes": verdict.probes,
        "aws_calls": verdict.aws_calls,
    }


def write_json(verdict: Verdict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(to_json(verdict), indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)  # readers (the deploy gate) never see half a file


def summary_line(verdict: Verdict) -> str:
    """`VERDICT: FAIL env=local checks=14 failed=1 error=0 skipped=2 in 2.1s`"""
    ran = sum(c.status != "skipped" for c in verdict.checks)
    parts = [
        f"VERDICT: {verdict.outcome.upper()}",
        f"env={verdict.env}",
        f"checks={ran}",
        f"failed={verdict.count('failed')}",
        f"error={verdict.count('error')}",
        f"skipped={verdict.count('skipped')}",
    ]
    for extra in ("flaky", "waived"):
        if verdict.count(extra):
            parts.append(f"{extra}={verdict.count(extra)}")
    return " ".join(parts) + f" in {verdict.duration_s:.1f}s"


def problem_lines(verdict: Verdict) -> list[str]:
    """One line per failed or errored check, for the terminal."""
    marks = {"failed": "FAIL ", "error": "ERROR"}
    lines = []
    for result in verdict.checks:
        if result.status in marks:
            note = f" [waived: {result.waived}]" if result.waived else ""
            note += " [warning]" if result.severity != "critical" else ""
            lines.append(f"{marks[result.status]} {result.id}: {result.message}{note}")
    return lines


def markdown(verdict: Verdict) -> str:
    """A GitHub step summary: the verdict, then a table of the checks."""
    icon = {"pass": "✅", "fail": "❌", "error": "⚠️"}[verdict.outcome]
    rows = ["| check | status | message |", "|---|---|---|"]
    for result in verdict.checks:
        message = result.message.replace("|", "\\|").replace("\n", " ")
        rows.append(f"| `{result.id}` | {result.status} | {message} |")
    head = f"### {icon} verify: {verdict.outcome.upper()} on `{verdict.env}`"
    release = f" release `{verdict.release}`" if verdict.release else ""
    return "\n".join([head, "", f"{summary_line(verdict)}{release}", "", *rows, ""]) + "\n"
