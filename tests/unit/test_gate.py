"""Gate integrity, in process with canned observations: every path that could pass a run that did
not finish gives ERROR, and FAIL comes only from a check's own assertion."""

from __future__ import annotations

import json

import pytest

from tests.support import canned
from tests.support.canned import QUIET, REPO, gate, statuses

pytest_plugins = ["pytester"]


def test_a_healthy_platform_passes(pytester: pytest.Pytester) -> None:
    result, verdict = gate(pytester, "healthy()", "--release", canned.RELEASE)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["VERDICT: PASS env=prod checks=* passed=9 failed=0 error=0 skipped=* in *s"]
    )
    assert verdict["verdict"] == "pass" and verdict["counts"]["passed"] == 9
    assert len(verdict["expected"]) == len(verdict["checks"])
    assert verdict["selection"]["markexpr"] == "smoke"


def test_stopping_at_a_warning_failure_is_error_not_pass(pytester: pytest.Pytester) -> None:
    environments = canned.ENVIRONMENTS + 'severity = { "alarms.none_firing" = "warning" }\n'
    observations = "{**healthy(), 'alarms': alarms('ALARM')}"
    result, verdict = gate(
        pytester, observations, "-x", "--release", canned.RELEASE, environments=environments
    )
    assert result.ret == 6
    assert verdict["verdict"] == "error"
    assert verdict["reason"] == (
        f"stopped early (stopping after 1 failures): 8 of {len(verdict['checks'])} checks not run"
    )
    assert statuses(verdict)["alarms.none_firing"][0] == "failed"
    not_run = [c for c in verdict["checks"] if c["message"].startswith("not run: stopped early")]
    assert len(not_run) == 8
    result.stdout.fnmatch_lines(
        ["VERDICT: ERROR (stopped early (stopping after 1 failures): 8 of * checks not run) *"]
    )


def test_maxfail_is_error_too(pytester: pytest.Pytester) -> None:
    observations = "{**healthy(), 'alarms': alarms('ALARM')}"
    result, verdict = gate(pytester, observations, "--maxfail=1", "--release", canned.RELEASE)
    # The failure observed still gates: FAIL outranks the checks that did not run.
    assert (result.ret, verdict["verdict"]) == (1, "fail")
    assert sum(c["message"].startswith("not run") for c in verdict["checks"]) == 8


def test_ctrl_c_during_a_settle_wait_is_interrupted_never_passed(pytester: pytest.Pytester) -> None:
    observations = (
        "{**healthy(), 'ecs.cluster': sequence(cluster(service(running=1)), KeyboardInterrupt())}"
    )
    result, verdict = gate(
        pytester, observations, "--settle=30", "--release", canned.RELEASE, subprocess=True
    )
    assert result.ret == 2
    assert verdict["verdict"] == "error"
    assert verdict["reason"].startswith("interrupted: ")
    stable = statuses(verdict)["ecs.service_stable[app-api]"]
    assert stable == ("error", "interrupted while running")
    result.stdout.fnmatch_lines(["VERDICT: ERROR (interrupted: * of * checks not run) *"])


def test_a_fixture_that_raises_is_error_with_where(pytester: pytest.Pytester) -> None:
    observations = "{**healthy(), 'alarms': RuntimeError('boom')}"
    result, verdict = gate(pytester, observations, "--release", canned.RELEASE)
    assert result.ret == 6
    status, message = statuses(verdict)["alarms.none_firing"]
    assert (
        status == "error"
        and message.startswith("RuntimeError at canned.py:")
        and message.endswith(": boom")
    )


def test_an_assertion_outside_the_check_is_error_not_fail(pytester: pytest.Pytester) -> None:
    observations = "{**healthy(), 'alarms': AssertionError('probe saw nothing')}"
    result, verdict = gate(pytester, observations, "--release", canned.RELEASE)
    assert (result.ret, verdict["verdict"]) == (6, "error")
    status, message = statuses(verdict)["alarms.none_firing"]
    assert status == "error"
    assert message.startswith("assertion outside the check (canned.py:")
    assert message.endswith("): probe saw nothing")


@pytest.mark.parametrize(
    ("raise_", "reason"),
    [
        ("pytest.skip('infra flaky')", "skipped unexpectedly: infra flaky"),
        (
            "pytest.importorskip('no_such_module_here')",
            "skipped unexpectedly: could not import 'no_such_module_here'*",
        ),
    ],
)
def test_a_skip_the_plugin_did_not_make_is_error(
    pytester: pytest.Pytester, raise_: str, reason: str
) -> None:
    extra = f"\ndef skipping():\n    {raise_}\n"
    result, verdict = gate(
        pytester, "{**healthy(), 'alarms': skipping}", "--release", canned.RELEASE, extra=extra
    )
    assert (result.ret, verdict["verdict"]) == (6, "error")
    status, message = statuses(verdict)["alarms.none_firing"]
    assert status == "error"
    assert pytest.importorskip("fnmatch").fnmatch(message, reason), message


@pytest.mark.parametrize("strict", ["False", "True"])
def test_xfail_on_a_gating_check_is_error(pytester: pytest.Pytester, strict: str) -> None:
    extra = f"""
def pytest_collection_modifyitems(items):
    for item in items:
        if "alarms" in item.nodeid:
            item.add_marker(pytest.mark.xfail(reason="known", strict={strict}))
"""
    observations = "{**healthy(), 'alarms': alarms('ALARM')}" if strict == "False" else "healthy()"
    result, verdict = gate(pytester, observations, "--release", canned.RELEASE, extra=extra)
    assert (result.ret, verdict["verdict"]) == (6, "error")
    assert statuses(verdict)["alarms.none_firing"] == (
        "error",
        "xfail is not allowed on a gating check",
    )


def test_the_run_deadline_leaves_the_rest_not_run(pytester: pytest.Pytester) -> None:
    environments = canned.ENVIRONMENTS.replace("run_deadline_s = 30", "run_deadline_s = 1")
    extra = "\nimport time\ndef slow():\n    time.sleep(1.5)\n    return alarms()\n"
    result, verdict = gate(
        pytester,
        "{**healthy(), 'alarms': slow}",
        "--release",
        canned.RELEASE,
        extra=extra,
        environments=environments,
    )
    assert (result.ret, verdict["verdict"]) == (6, "error")
    later = [c for c in verdict["checks"] if c["message"] == "not run: run deadline (1 s) passed"]
    assert later, statuses(verdict)


def test_an_internal_error_is_never_pass(pytester: pytest.Pytester) -> None:
    extra = "\ndef pytest_runtest_logfinish(nodeid):\n    raise RuntimeError('plugin bug')\n"
    result, verdict = gate(pytester, "healthy()", "--release", canned.RELEASE, extra=extra)
    assert result.ret == 3
    assert verdict["verdict"] == "error"


def test_zero_checks_selected_says_why(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", environments=canned.ENVIRONMENTS)
    result = pytester.runpytest("--env=prod", "-m", "nightly", *QUIET)
    assert result.ret == 5
    result.stdout.fnmatch_lines(
        [
            "VERDICT: ERROR (zero gating checks: marker expression 'nightly' selected none) "
            "env=prod checks=0 *"
        ]
    )


def test_an_unknown_environment_never_leaves_an_old_pass(pytester: pytest.Pytester) -> None:
    reports = pytester.mkdir("reports")
    (reports / "verdict.json").write_text('{"verdict": "pass"}')
    pytester.makefile(".toml", environments=canned.ENVIRONMENTS)
    result = pytester.runpytest("--env=prdo", "-m", "smoke", *QUIET)
    assert result.ret == 4
    verdict = json.loads((reports / "verdict.json").read_text())
    assert verdict["verdict"] == "error"
    assert verdict["reason"].startswith("usage error: unknown environment 'prdo'")


def test_a_killed_run_leaves_the_provisional_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    pytester.makefile(".toml", environments=canned.ENVIRONMENTS)
    extra = "\nimport time\ndef hang():\n    time.sleep(60)\n"
    pytester.makepyfile(canned_plugin=canned.plugin("{**healthy(), 'alarms': hang}", extra))
    reports = pytester.mkdir("reports")
    (reports / "verdict.json").write_text('{"verdict": "pass"}')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(pytester.path), str(REPO)])}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "--env=prod",
            "-m",
            "smoke",
            "-p",
            "canned_plugin",
            *QUIET,
        ],
        cwd=pytester.path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            text = (reports / "verdict.json").read_text()
            if '"run did not finish"' in text:
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=10)
    verdict = json.loads((reports / "verdict.json").read_text())
    assert (verdict["verdict"], verdict["reason"]) == ("error", "run did not finish")


def test_only_the_plugins_own_skips_are_skips(pytester: pytest.Pytester) -> None:
    environments = canned.ENVIRONMENTS.replace('alb = { target_groups = ["tg-api"] }\n', "")
    result, verdict = gate(
        pytester, "healthy()", "--release", canned.RELEASE, environments=environments
    )
    assert result.ret == 0
    assert statuses(verdict)["alb.targets_healthy"] == (
        "skipped",
        "alb is not configured for env prod",
    )
    result.stdout.fnmatch_lines(["SKIP  alb.targets_healthy: alb is not configured for env prod"])


def test_a_waiver_covers_fail_but_not_error_unless_it_says_so(pytester: pytest.Pytester) -> None:
    waiver = (
        'waivers = [{ check = "alarms.none_firing", reason = "INC-1", expires = 2099-01-01 }]\n'
    )
    environments = canned.ENVIRONMENTS + waiver
    result, verdict = gate(
        pytester,
        "{**healthy(), 'alarms': alarms('ALARM')}",
        "--release",
        canned.RELEASE,
        environments=environments,
    )
    assert (result.ret, verdict["verdict"]) == (0, "pass")
    assert verdict["counts"]["waived"] == 1
    result, verdict = gate(
        pytester,
        "{**healthy(), 'alarms': RuntimeError('x')}",
        "--release",
        canned.RELEASE,
        environments=environments,
    )
    assert (result.ret, verdict["verdict"]) == (6, "error")


def test_failure_output_is_one_block_per_check_without_internal_reprs(
    pytester: pytest.Pytester,
) -> None:
    observations = "{**healthy(), 'ecs.cluster': cluster(service(running=1))}"
    result, _ = gate(pytester, observations, "--release", canned.RELEASE)
    text = result.stdout.str()
    assert result.ret == 1
    message = "service app-api: running 1 of desired 2; expected running == desired"
    assert text.count(message) == 1, text
    assert "FAILURES" not in text and "Service(" not in text and "Thresholds(" not in text
    result.stdout.fnmatch_lines(
        [
            f"FAIL  ecs.service_stable[app-api]: {message}",
            "      event: (service app-api) has reached a steady state.",
        ]
    )
