"""Verdict semantics (DESIGN section 3): fail closed, zero checks is ERROR, waivers and severity."""

from __future__ import annotations

from datetime import UTC, datetime

from verify.verdict import CheckResult, Verdict, apply_waivers, decide, markdown, summary_line


def result(check_id: str, status: str, **kw: object) -> CheckResult:
    return CheckResult(id=check_id, component=check_id.split(".")[0], status=status, **kw)  # type: ignore[arg-type]


def test_all_passed_is_pass() -> None:
    assert decide([result("api.health", "passed"), result("rds.lag", "skipped")], []) == (
        "pass",
        "1 gating check(s) passed",
    )


def test_zero_checks_is_error() -> None:
    assert decide([], []) == ("error", "zero gating checks ran")
    assert decide([result("api.health", "skipped")], []) == ("error", "zero gating checks ran")


def test_an_error_is_never_pass() -> None:
    assert decide([result("api.health", "passed"), result("ecs.x", "error")], [])[0] == "error"


def test_a_failure_outranks_an_error() -> None:
    assert decide([result("a.x", "error"), result("b.y", "failed")], [])[0] == "fail"


def test_run_level_errors_are_error() -> None:
    assert decide([result("api.health", "passed")], ["collection failed: x"]) == (
        "error",
        "collection failed: x",
    )


def test_warning_severity_does_not_gate() -> None:
    checks = [
        result("api.health", "passed"),
        result("alarms.none_firing", "failed", severity="warning"),
    ]
    assert decide(checks, [])[0] == "pass"


def test_waivers_match_ids_and_patterns() -> None:
    checks = [
        result("ecs.release[app-api]", "failed"),
        result("alarms.none_firing", "failed"),
        result("api.health", "passed"),
    ]
    apply_waivers(checks, [("ecs.release", "image pinned by digest"), ("alarms.*", "noisy")])
    assert [c.waived for c in checks] == ["image pinned by digest", "noisy", None]
    assert decide(checks, [])[0] == "pass"


def test_summary_line_and_markdown() -> None:
    start = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
    verdict = Verdict(
        env="local",
        outcome="fail",
        reason="1 check(s) failed",
        release="r1",
        started_at=start,
        finished_at=start.replace(second=2, microsecond=100000),
        checks=[
            result("api.health", "failed", message="HTTP 503 | down"),
            result("x.y", "skipped"),
        ],
        rollback={"mode": "off", "triggered": False, "hooks": []},
    )
    assert (
        summary_line(verdict)
        == "VERDICT: FAIL env=local checks=1 failed=1 error=0 skipped=1 in 2.1s"
    )
    table = markdown(verdict)
    assert "| `api.health` | failed | HTTP 503 \\| down |" in table
