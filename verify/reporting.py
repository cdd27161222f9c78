"""On the controller (never on xdist workers): account for every check, decide, write, exit."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from verify.config import active_waivers, expired_waivers
from verify.identity import check_id_of
from verify.ledger import Ledger
from verify.run import current
from verify.text import plural
from verify.verdict import Verdict, apply_waivers, decide
from verify.writers import (
    atomic_write,
    junit,
    markdown,
    summary_line,
    terminal_lines,
    write_verdict,
)

if TYPE_CHECKING:
    from verify.run import Run

ERROR_EXIT = 6  # verdict ERROR: distinct from FAIL (1) and from pytest's own 2-5
PYTEST_OWN = {2, 3, 4, 5}  # interrupted, internal error, usage error, no tests collected


def exit_code(outcome: str, pytest_status: int) -> int:
    """0 PASS, 1 FAIL; ERROR keeps pytest's own 2-5 when it has one, else 6."""
    if outcome == "pass":
        return 0
    if outcome == "fail":
        return 1
    return pytest_status if pytest_status in PYTEST_OWN else ERROR_EXIT


class VerdictReporter:
    """Registered as plugin `verify-verdict` on the controller when a run has an environment."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.ledger = Ledger()
        self.verdict: Verdict | None = None
        self.deselected = 0

    @property
    def run(self) -> Run:
        run = current(self.config)
        assert run is not None
        return run

    def _named(self, nodeid: str) -> tuple[str, str] | None:
        return check_id_of(nodeid)

    # --- what the selection expects -------------------------------------------------------

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += len(items)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.ledger.extend((item.nodeid for item in session.items), self._named)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.ledger.extend(ids, self._named)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        stats = getattr(node, "workeroutput", {}).get("verify")
        if stats:
            self.run.worker_stats.append(stats)

    # --- what happened ----------------------------------------------------------------------

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.ledger.started(nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.ledger.record(report, self._named)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            from verify.text import one_line

            where = report.nodeid or "session"
            self.ledger.collection_errors.append(
                f"collection failed: {where}: {one_line(str(report.longrepr), 300)}"
            )

    # --- the verdict --------------------------------------------------------------------------

    def _stopped(self, session: pytest.Session, exitstatus: int) -> str | None:
        """Why checks may be missing: -x/--maxfail, Ctrl-C, an internal error, the deadline."""
        dsession = self.config.pluginmanager.getplugin("dsession")
        stop = session.shouldfail or session.shouldstop or getattr(dsession, "shouldstop", None)
        if exitstatus == pytest.ExitCode.INTERRUPTED and not self.ledger.collection_errors:
            return "interrupted"
        if exitstatus == pytest.ExitCode.INTERNAL_ERROR:
            return "internal error"
        if stop:
            return f"stopped early ({stop})"
        if self.run.deadline.passed() and any(
            not e.call and not e.setup for e in self.ledger.entries.values()
        ):
            return f"run deadline ({self.run.deadline.seconds:g} s) passed"
        return None

    def build(self, session: pytest.Session, exitstatus: int) -> Verdict:
        run = self.run
        stopped = self._stopped(session, exitstatus)
        checks = sorted(
            self.ledger.results(stopped or "the run ended first", run.env.severity_of),
            key=lambda c: c.id,
        )
        today = date.today()
        apply_waivers(
            checks, [(w.check, w.reason, list(w.covers)) for w in active_waivers(run.env, today)]
        )
        missing = sum(c.message.startswith(("not run", "interrupted")) for c in checks)
        run_error = None
        if self.ledger.collection_errors:
            run_error = self.ledger.collection_errors[0]
        elif stopped:
            run_error = f"{stopped}: {missing} of {plural(len(checks), 'check')} not run"
        elif not checks:
            run_error = f"zero gating checks: {self._selection_words()} selected none"
        outcome, reason = decide(checks, run_error)
        release, source = run.release, run.release_source
        if release is None and run.discovered is not None:
            release, source = run.discovered[0], f"discovered: {run.discovered[1]}"
        probes, aws_calls = _probe_stats(run)
        verdict = Verdict(
            env=run.env.name,
            outcome=outcome,
            reason=reason,
            release=release,
            release_source=source,
            started_at=run.started_at,
            finished_at=datetime.now(UTC),
            checks=checks,
            rollback={"mode": run.rollback_mode, "triggered": False, "hooks": []},
            expected=self.ledger.expected_ids(),
            selection=self._selection(),
            probes=probes,
            aws_calls=aws_calls,
        )
        verdict.exit_code = exit_code(outcome, exitstatus)
        return verdict

    def _selection(self) -> dict[str, Any]:
        option = self.config.option
        args_given = self.config.args_source == pytest.Config.ArgsSource.ARGS
        return {
            "markexpr": option.markexpr or None,
            "keyword": option.keyword or None,
            "deselect": list(option.deselect or []),
            "last_failed": bool(getattr(option, "lf", False)),
            "paths": list(self.config.args) if args_given else [],
            "deselected": self.deselected,
        }

    def _selection_words(self) -> str:
        option = self.config.option
        if option.markexpr:
            return f"marker expression {option.markexpr!r}"
        if option.keyword:
            return f"-k {option.keyword!r}"
        return "the selection"

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.config.option.collectonly:
            return
        verdict = self.verdict = self.build(session, int(exitstatus))
        reports = self.run.reports_dir
        write_verdict(verdict, reports / "verdict.json")
        atomic_write(reports / "junit.xml", junit(verdict))
        if self.run.rollback_mode != "off":
            from verify.actions.gate import after_verdict

            # Hooks act on the verdict already written: a crash here leaves the FAIL in place.
            verdict.rollback = after_verdict(self.config, self.run, verdict)
            write_verdict(verdict, reports / "verdict.json")
        summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary_file:
            with open(summary_file, "a", encoding="utf-8") as handle:
                handle.write(markdown(verdict))
        session.exitstatus = verdict.exit_code

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.verdict is None:
            return
        terminalreporter.section("verify")
        for waiver in expired_waivers(self.run.env, date.today()):
            terminalreporter.write_line(
                f"expired waiver ignored: {waiver.check} (expired {waiver.expires})", yellow=True
            )
        for line, colour in terminal_lines(self.verdict):
            terminalreporter.write_line(line, **({colour: True} if colour else {}))
        from verify.actions.runner import rollback_lines

        for line, colour in rollback_lines(self.verdict.rollback):
            terminalreporter.write_line(line, **({colour: True} if colour else {}))
        terminalreporter.write_line(f"report: {self.run.reports_dir / 'verdict.json'}")
        color = {"pass": "green", "fail": "red", "error": "yellow"}[self.verdict.outcome]
        terminalreporter.write_line(summary_line(self.verdict), **{color: True, "bold": True})


def _probe_stats(run: Run) -> tuple[list[dict[str, Any]], int | None]:
    """Probe timings and AWS calls: this process's, plus what each xdist worker reported."""
    stats = list(run.worker_stats)
    if run.scheduler is not None:
        stats.append(local_stats(run))
    if not stats:
        return [], None
    probes = sorted((p for s in stats for p in s["probes"]), key=lambda p: p["started_s"])
    calls = [s["aws_calls"] for s in stats if s.get("aws_calls") is not None]
    return probes, (sum(calls) if calls else None)


def local_stats(run: Run) -> dict[str, Any]:
    """This process's probe timings and AWS call count (a worker sends it in workeroutput)."""
    timings = run.scheduler.timings if run.scheduler is not None else []
    return {
        "probes": [
            {
                "key": t.key,
                "started_s": round(t.started_s, 3),
                "duration_s": round(t.duration_s, 3),
                "ok": t.ok,
            }
            for t in sorted(timings, key=lambda t: t.started_s)
        ],
        "aws_calls": sum(run.aws.calls.values()) if run.aws is not None else None,
    }


def write_provisional(reports_dir: Path, env: str | None, reason: str) -> None:
    """Replace verdict.json with an ERROR verdict before anything else can go wrong."""
    from verify.verdict import provisional
    from verify.writers import write_json

    write_json(provisional(env, datetime.now(UTC), reason), reports_dir / "verdict.json")
