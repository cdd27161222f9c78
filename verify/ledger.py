"""The controller's account of a run: every check the selection expects, and what each became.

An expected check without a call-phase result is ERROR whatever the cause (-x, Ctrl-C, a crashed
xdist worker, the run deadline, a fixture that raised); only the plugin's own skips are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from verify.redact import REDACT
from verify.text import one_line
from verify.verdict import CheckResult

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    import pytest


@dataclass
class Entry:
    check: str
    component: str
    started: bool = False
    duration_s: float = 0.0
    setup: dict[str, Any] | None = None  # phase outcomes ({status, message})
    call: dict[str, Any] | None = None
    teardown: dict[str, Any] | None = None
    record: dict[str, Any] | None = None
    crash: str | None = None  # xdist: the worker died running it


@dataclass
class Ledger:
    entries: dict[str, Entry] = field(default_factory=dict)  # nodeid -> entry
    collection_errors: list[str] = field(default_factory=list)

    def expect(self, nodeid: str, check: str, component: str) -> None:
        self.entries.setdefault(nodeid, Entry(check, component))

    def started(self, nodeid: str) -> None:
        if nodeid in self.entries:
            self.entries[nodeid].started = True

    def record(
        self, report: pytest.TestReport, named: Callable[[str], tuple[str, str] | None]
    ) -> None:
        """Fold one phase's report in (on the controller, from this process or a worker)."""
        data: dict[str, Any] | None = getattr(report, "verify", None)
        entry = self.entries.get(report.nodeid)
        if entry is None:
            found = named(report.nodeid)
            if found is None:
                return  # not a check
            entry = self.entries[report.nodeid] = Entry(*found)
        entry.duration_s += report.duration
        if report.when not in ("setup", "call", "teardown"):
            # xdist reports a crashed worker's item with when "???": never a pass.
            entry.crash = one_line(REDACT(str(report.longrepr)), 300)
            return
        if data is None:
            return
        if data.get("outcome") is not None:
            setattr(entry, report.when, data["outcome"])
        if data.get("record") is not None:
            entry.record = data["record"]

    def results(self, not_run: str, severity_of: Callable[[str], str]) -> list[CheckResult]:
        """One result per expected check; `not_run` says why checks without a result did not run."""
        return [self._result(e, not_run, severity_of) for e in self.entries.values()]

    def _result(self, entry: Entry, not_run: str, severity_of: Callable[[str], str]) -> CheckResult:
        result = CheckResult(entry.check, entry.component, "error", severity_of(entry.check))
        result.duration_s = entry.duration_s
        record = entry.record or {}
        result.observed = record.get("observed")
        result.threshold = record.get("threshold")
        result.evidence = list(record.get("evidence") or [])
        result.attempts = int(record.get("attempts", 1))
        decided = entry.call or entry.setup
        if entry.crash is not None:
            result.message = f"not run: {entry.crash}"
        elif decided is None:
            result.message = "interrupted while running" if entry.started else f"not run: {not_run}"
        else:
            result.status = decided["status"]
            result.message = decided["message"]
        if result.status == "passed":
            if entry.teardown is not None:
                result.status, result.message = "error", entry.teardown["message"]
            else:
                result.message = record.get("note") or ""
                result.flaky = result.attempts > 1
                result.first_failure = record.get("first_failure")
        return result

    def expected_ids(self) -> list[str]:
        return [entry.check for entry in self.entries.values()]

    def extend(
        self, nodeids: Iterable[str], named: Callable[[str], tuple[str, str] | None]
    ) -> None:
        for nodeid in nodeids:
            found = named(nodeid)
            if found is not None:
                self.expect(nodeid, *found)
