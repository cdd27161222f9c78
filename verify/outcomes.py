"""One phase's pytest report -> what it means for the check, decided where the check ran.

FAIL comes only from the check's own assertion (or `pytest.fail`) in the call phase: the
platform was observed out of bounds. An assertion anywhere else (a fixture, a probe, a helper in
another module) is a bug or a missing observation: ERROR, like any other exception, an
unexpected skip or an xfail. The outcome travels on the report (`report.verify`), so the xdist
controller decides from the same facts as a single process.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from verify.redact import REDACT
from verify.run import RECORD, SKIP_REASON
from verify.text import one_line

if TYPE_CHECKING:
    from verify.verdict import Status

_ASSERTION_DETAIL = "\nassert "


def phase_outcome(
    item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport
) -> dict[str, Any] | None:
    """{status, message} this phase decides, or None when it decides nothing (a passing setup)."""
    status: Status
    if report.when == "setup":
        if report.skipped:
            reason = _skip_reason(report)
            if SKIP_REASON in item.stash:
                return {"status": "skipped", "message": item.stash[SKIP_REASON]}
            return {"status": "error", "message": f"skipped unexpectedly: {reason}"}
        if report.failed and call.excinfo is not None:
            status, message = classify(call.excinfo, item, "setup")
            return {"status": "error", "message": message}
        return None
    if report.when == "call":
        xfail = hasattr(report, "wasxfail") or "XPASS" in str(report.longrepr or "")
        if xfail:
            return {"status": "error", "message": "xfail is not allowed on a gating check"}
        if report.skipped:
            return {"status": "error", "message": f"skipped unexpectedly: {_skip_reason(report)}"}
        if report.failed:
            if call.excinfo is None:
                return {"status": "error", "message": one_line(REDACT(str(report.longrepr)), 300)}
            status, message = classify(call.excinfo, item, "call")
            return {"status": status, "message": message}
        return {"status": "passed", "message": ""}
    if report.failed and call.excinfo is not None:
        _, message = classify(call.excinfo, item, "teardown")
        return {"status": "error", "message": f"teardown failed: {message}"}
    return None


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return one_line(REDACT(reason.removeprefix("Skipped: ")))


def classify(
    excinfo: pytest.ExceptionInfo[BaseException], item: pytest.Item, when: str
) -> tuple[Status, str]:
    """`failed` for the check's own assertion in the call phase; `error` for everything else."""
    from verify.probes.errors import ProbeError

    exc = excinfo.value
    if when == "call" and isinstance(exc, pytest.fail.Exception):
        return "failed", one_line(REDACT(exc.msg or "failed"), 600)
    if isinstance(exc, AssertionError):
        text = one_line(REDACT(str(exc).split(_ASSERTION_DETAIL, 1)[0] or "assertion failed"), 600)
        if when == "call" and _raised_in(excinfo, item.path):
            return "failed", text
        return "error", f"assertion outside the check ({_where(excinfo)}): {text}"
    if isinstance(exc, ProbeError):
        return "error", str(exc)
    if isinstance(exc, KeyboardInterrupt):
        return "error", "interrupted"
    return "error", f"{type(exc).__name__} at {_where(excinfo)}: {one_line(REDACT(str(exc)), 400)}"


def _raised_in(excinfo: pytest.ExceptionInfo[BaseException], path: Path) -> bool:
    """The assertion statement itself is in the check's module (its own code or helpers there)."""
    entries = excinfo.traceback
    return bool(entries) and Path(entries[-1].path) == path


def _where(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    if not excinfo.traceback:
        return "?"
    last = excinfo.traceback[-1]
    return f"{Path(last.path).name}:{last.lineno + 1}"


def failure_block(outcome: dict[str, Any], record: dict[str, Any] | None) -> str:
    """What pytest shows under the check's id in FAILURES / ERRORS: message, then evidence."""
    lines = [outcome["message"]]
    evidence = (record or {}).get("evidence") or []
    if evidence:
        lines.append("evidence:")
        lines += [f"  {one_line(REDACT(str(line)), 400)}" for line in evidence]
    return "\n".join(lines)


def decorate(
    item: pytest.Item, report: pytest.TestReport, check_id: str, outcome: dict[str, Any] | None
) -> None:
    """Attach the outcome and the record to the report; replace pytest's long repr for checks."""
    record = item.stash.get(RECORD, None)
    report.verify = {  # type: ignore[attr-defined]
        "check": check_id,
        "outcome": outcome,
        "record": json.loads(json.dumps(record)) if record and report.when == "call" else None,
    }
    report.location = (report.location[0], report.location[1], check_id)
    if outcome is not None and outcome["status"] in ("failed", "error"):
        report.longrepr = failure_block(outcome, record)
    # Captured output of a check is library chatter; whatever it holds is masked.
    report.sections = [(title, REDACT(text)) for title, text in report.sections]
