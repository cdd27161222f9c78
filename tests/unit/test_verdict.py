"""Verdict semantics (DESIGN section 3) and its writers: fail closed, reasons in words."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from verify.reporting import ERROR_EXIT, exit_code
from verify.verdict import CheckResult, Verdict, apply_waivers, decide
from verify.writers import atomic_write, junit, markdown, summary_line, terminal_lines

START = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)


def result(check_id: str, status: str, **kw: object) -> CheckResult:
    return CheckResult(id=check_id, component=check_id.split(".")[0], status=status, **kw)  # type: ignore[arg-type]


def verdict(
    checks: list[CheckResult], outcome: str = "fail", reason: str = "1 of 2 checks failed"
) -> Verdict:
    return Verdict(
        env="local",
        outcome=outcome,  # type: ignore[arg-type]
        reason=reason,
        release="r1",
        started_at=START,
        finished_at=START.replace(second=2, microsecond=100000),
        checks=checks,
        rollback={"mode": "off", "triggered": False, "hooks": []},
    )


def test_all_passed_is_pass() -> None:
    assert decide([result("api.health", "passed"), result("rds.lag", "skipped")]) == (
        "pass",
        "1 gating check passed",
    )


def test_zero_gating_checks_is_error() -> None:
    assert decide([]) == (
        "error",
        "zero gating checks: all 0 checks skipped, waived or warning-only",
    )
    assert decide([result("api.health", "skipped")])[0] == "error"


def test_an_error_is_never_pass_and_a_failure_outranks_it() -> None:
    assert decide([result("api.health", "passed"), result("ecs.x", "error")]) == (
        "error",
        "1 of 2 checks could not observe",
    )
    assert decide([result("a.x", "error"), result("b.y", "failed")]) == (
        "fail",
        "1 of 2 checks failed",
    )


def test_checks_that_did_not_run_are_named_so() -> None:
    checks = [result("a.x", "passed"), result("b.y", "error", message="not run: interrupted")]
    assert decide(checks) == ("error", "1 of 2 checks not run")


def test_run_level_errors_are_error_but_a_failure_still_outranks_them() -> None:
    assert decide([result("api.health", "passed")], "collection failed: x") == (
        "error",
        "collection failed: x",
    )
    assert decide([result("api.health", "failed")], "interrupted")[0] == "fail"


def test_warning_severity_does_not_gate() -> None:
    checks = [
        result("api.health", "passed"),
        result("alarms.none_firing", "failed", severity="warning"),
    ]
    assert decide(checks)[0] == "pass"


def test_waivers_cover_failures_and_errors_only_when_they_say_so() -> None:
    checks = [
        result("ecs.release[app-api]", "failed"),
        result("alarms.none_firing", "error"),
        result("api.health", "passed"),
    ]
    apply_waivers(checks, [("ecs.release", "pinned", ["fail"]), ("alarms.*", "noisy", ["fail"])])
    assert [c.waived for c in checks] == ["pinned", None, None]
    assert decide(checks)[0] == "error"
    apply_waivers(checks, [("alarms.*", "noisy", ["fail", "error"])])
    assert checks[1].waived == "noisy" and decide(checks)[0] == "pass"


def test_exit_codes_tell_fail_from_error() -> None:
    assert [exit_code("pass", 0), exit_code("fail", 1), exit_code("error", 1)] == [0, 1, ERROR_EXIT]
    assert [exit_code("error", code) for code in (2, 3, 4, 5)] == [2, 3, 4, 5]
    assert exit_code("fail", 2) == 1  # an interrupted run that saw a failure: roll back


def test_summary_line_carries_the_reason_and_every_count() -> None:
    failing = verdict(
        [result("api.health", "failed", message="HTTP 503 | down"), result("x.y", "skipped")]
    )
    assert summary_line(failing) == (
        "VERDICT: FAIL (1 of 2 checks failed) env=local checks=2 passed=0 failed=1 error=0 "
        "skipped=1 in 2.1s"
    )
    passing = verdict([result("api.health", "passed", flaky=True)], "pass", "1 gating check passed")
    assert summary_line(passing) == (
        "VERDICT: PASS env=local checks=1 passed=1 failed=0 error=0 skipped=0 flaky=1 in 2.1s"
    )


def test_terminal_and_markdown_lead_with_failures() -> None:
    checks = [
        result("a.ok", "passed"),
        result("b.flaky", "passed", flaky=True, attempts=3, first_failure="running 1 of 2"),
        result("c.skip", "skipped", message="c is not configured for env local"),
        result("d.fail", "failed", message="HTTP 503 | down", evidence=["GET / -> 503"]),
        result("e.err", "error", message="timeout"),
    ]
    lines = [line for line, _ in terminal_lines(verdict(checks))]
    assert lines == [
        "SKIP  c.skip: c is not configured for env local",
        "FLAKY b.flaky: passed on attempt 3; first saw: running 1 of 2",
        "FAIL  d.fail: HTTP 503 | down",
        "      GET / -> 503",
        "ERROR e.err: timeout",
    ]
    table = markdown(verdict(checks)).splitlines()
    rows = [row for row in table if row.startswith("| `")]
    assert rows[0] == "| `d.fail` | failed | HTTP 503 \\| down |"
    assert rows[1].startswith("| `e.err` | error")
    assert "| `b.flaky` | passed (flaky) |" in "\n".join(rows)


def test_junit_names_results_by_check_id_with_json_properties() -> None:
    checks = [
        result(
            "ecs.service_stable[app-api]",
            "failed",
            message="running 1 of 2",
            observed={"running": 1},
        ),
        result("api.health", "passed", observed={"status": 200}, threshold={"status": 200}),
        result("rds.available", "skipped", message="rds is not configured"),
        result("alarms.none_firing", "error", message="not run: interrupted"),
    ]
    root = ET.fromstring(junit(verdict(checks)))
    suite = root.find("testsuite")
    assert suite is not None
    assert (
        suite.get("tests"),
        suite.get("failures"),
        suite.get("errors"),
        suite.get("skipped"),
    ) == ("4", "1", "1", "1")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == {c.id for c in checks}
    stable = cases["ecs.service_stable[app-api]"]
    assert stable.get("classname") == "verify.ecs"
    props = {p.get("name"): p.get("value") for p in stable.iter("property")}
    assert json.loads(props["observed"] or "") == {"running": 1}
    failure = stable.find("failure")
    assert failure is not None and failure.get("message") == "running 1 of 2"
    assert cases["alarms.none_firing"].find("error") is not None


def test_atomic_write_replaces_a_planted_symlink_not_its_target(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep me")
    link = tmp_path / "verdict.json"
    os.symlink(target, link)
    atomic_write(link, '{"verdict": "error"}')
    assert target.read_text() == "keep me"
    assert not link.is_symlink() and json.loads(link.read_text()) == {"verdict": "error"}
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
