"""pytest reports -> CheckResults: which status, which one-line message."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from verify.verdict import CheckResult

if TYPE_CHECKING:
    import pytest

    from verify.verdict import Status

_PHASE_ORDER = {"setup": 0, "call": 1, "teardown": 2}


def one_line(text: str, limit: int = 600) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def classify(excinfo: pytest.ExceptionInfo[BaseException]) -> tuple[Status, str]:
    """An assertion is an observation out of bounds (failed); anything else could not observe."""
    exc = excinfo.value
    if isinstance(exc, AssertionError):
        # Assertion rewriting appends "\nassert ..." introspection: the check's message comes first.
        text = str(exc).split("\nassert ", 1)[0] or "assertion failed"
        return "failed", one_line(text)
    from verify.probes.errors import ProbeError

    if isinstance(exc, ProbeError):
        return "error", one_line(str(exc))
    return "error", one_line(f"{type(exc).__name__}: {exc}")


def properties(report: pytest.TestReport) -> dict[str, Any]:
    return {name: value for name, value in report.user_properties if name.startswith("verify_")}


def merge(results: dict[str, CheckResult], report: pytest.TestReport, severity_of: Any) -> None:
    """Fold one phase's report into the check's result (worst phase wins)."""
    props = properties(report)
    check_id = props.get("verify_check")
    if check_id is None:
        return
    result = results.get(report.nodeid)
    if result is None:
        component = check_id.split(".", 1)[0]
        result = CheckResult(id=check_id, component=component, status="passed")
        result.severity = severity_of(check_id)
        results[report.nodeid] = result
    result.duration_s += report.duration
    if "verify_observed" in props:
        result.observed = props["verify_observed"]
        result.threshold = props.get("verify_threshold")
    result.attempts = int(props.get("verify_attempts", result.attempts))
    if report.skipped and result.status == "passed":
        result.status = "skipped"
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        result.message = one_line(reason.removeprefix("Skipped: "))
    elif report.failed and result.status in ("passed", "skipped"):
        result.status = props.get("verify_status", "error")
        result.message = props.get("verify_message") or one_line(str(report.longrepr))
    elif report.passed and report.when == "call":
        result.message = props.get("verify_note", "")
        result.flaky = result.attempts > 1
