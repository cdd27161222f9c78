"""On the controller (never on xdist workers): gather check results, decide, write, set the exit code."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from verify import outcomes
from verify.config import active_waivers, expired_waivers
from verify.run import current
from verify.verdict import (
    Verdict,
    apply_waivers,
    decide,
    markdown,
    problem_lines,
    summary_line,
    write_json,
)

if TYPE_CHECKING:
    from verify.run import Run


class VerdictReporter:
    """Registered as plugin `verify-verdict` when a run has an environment."""

    def __init__(self, config: pytest.Config, reports_dir: Path) -> None:
        self.config = config
        self.reports_dir = reports_dir
        self.verdict: Verdict | None = None

    @property
    def run(self) -> Run:
        run = current(self.config)
        assert run is not None
        return run

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcomes.merge(self.run.results, report, self.run.env.severity_of)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.run.collection_errors.append(
                f"collection failed: {report.nodeid or 'session'}: "
                + outcomes.one_line(str(report.longrepr), 300)
            )

    def build(self, session: pytest.Session) -> Verdict:
        run = self.run
        checks = sorted(run.results.values(), key=lambda c: c.id)
        today = date.today()
        apply_waivers(checks, [(w.check, w.reason) for w in active_waivers(run.env, today)])
        errors = list(run.collection_errors)
        if session.shouldstop or session.exitstatus == pytest.ExitCode.INTERRUPTED:
            errors.append(f"run interrupted: {session.shouldstop or 'keyboard interrupt'}")
        outcome, reason = decide(checks, errors)
        probes, aws_calls = _probe_stats(run)
        return Verdict(
            env=run.env.name,
            outcome=outcome,
            reason=reason,
            release=run.release,
            started_at=run.started_at,
            finished_at=datetime.now(UTC),
            checks=checks,
            rollback={"mode": run.rollback_mode, "triggered": False, "hooks": []},
            probes=probes,
            aws_calls=aws_calls,
        )

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if session.config.option.collectonly:
            return
        verdict = self.verdict = self.build(session)
        write_json(verdict, self.reports_dir / "verdict.json")
        summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary_file:
            with open(summary_file, "a", encoding="utf-8") as handle:
                handle.write(markdown(verdict))
        if verdict.outcome == "pass":
            session.exitstatus = pytest.ExitCode.OK
        elif session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.verdict is None:
            return
        terminalreporter.section("verify")
        for waiver in expired_waivers(self.run.env, date.today()):
            terminalreporter.write_line(
                f"expired waiver ignored: {waiver.check} (expired {waiver.expires})"
            )
        for line in problem_lines(self.verdict):
            terminalreporter.write_line(line, red=True)
        terminalreporter.write_line(f"report: {self.reports_dir / 'verdict.json'}")
        color = {"pass": "green", "fail": "red", "error": "yellow"}[self.verdict.outcome]
        terminalreporter.write_line(summary_line(self.verdict), **{color: True, "bold": True})


def _probe_stats(run: Run) -> tuple[list[dict[str, Any]], int | None]:
    """Probe timings and AWS calls of this process (absent under xdist: they ran on the workers)."""
    if run.observations is None:
        return [], None
    probes = [
        {
            "key": t.key,
            "started_s": round(t.started_s, 3),
            "duration_s": round(t.duration_s, 3),
            "ok": t.ok,
        }
        for t in sorted(run.observations.timings, key=lambda t: t.started_s)
    ]
    calls = sum(run.aws.calls.values()) if run.aws is not None else None
    return probes, calls
