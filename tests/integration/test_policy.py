"""Verdict policy on real runs: waivers, warning severity, and a prefix typo that must not pass."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import VerifyRun, run_with_environments

ALARMS_ONLY = """
[environments.local]
sandbox = true
aws = {{ region = "eu-west-1", endpoint_url = "sandbox:aws" }}
alarms = {{ prefix = "{prefix}" }}
{extra}
"""
# A second, passing check: with only waived or warning checks nothing gates, and that is ERROR.
SECRETS = 'secrets = { required = ["/mobilytics/local/app-api/redis-auth"] }'


def run_alarms(
    tmp_path: Path, sandbox_dir: Path, prefix: str = "mobilytics-local-", extra: str = ""
) -> VerifyRun:
    body = ALARMS_ONLY.format(prefix=prefix, extra=extra)
    return run_with_environments(tmp_path, body, env={"VERIFY_SANDBOX_DIR": str(sandbox_dir)})


def test_a_prefix_typo_fails_instead_of_passing_on_zero_alarms(
    tmp_path: Path, sandbox_dir: Path
) -> None:
    run = run_alarms(tmp_path, sandbox_dir, prefix="mobilytics-lcoal-")
    assert run.outcome == "fail", run.output
    assert run.check("alarms.none_firing")["message"] == (
        "0 alarms match prefix 'mobilytics-lcoal-', 0 with data (0 INSUFFICIENT_DATA); "
        "expected >= 1 with data (is the prefix right?)"
    )


def test_an_active_waiver_lets_a_known_failure_through(
    tmp_path: Path, sandbox_dir: Path, broken: Callable[[str], None]
) -> None:
    broken("alarm-firing")
    waiver = 'waivers = [{ check = "alarms.*", reason = "INC-42: 5xx alarm flaps", expires = 2099-12-31 }]'
    run = run_alarms(tmp_path, sandbox_dir, extra=f"{SECRETS}\n{waiver}")
    assert run.exit_code == 0 and run.outcome == "pass", run.output
    check = run.check("alarms.none_firing")
    assert (check["status"], check["waived"]) == ("failed", "INC-42: 5xx alarm flaps")
    assert run.verdict["counts"]["waived"] == 1  # type: ignore[index]


def test_waiving_the_only_check_leaves_nothing_gating(
    tmp_path: Path, sandbox_dir: Path, broken: Callable[[str], None]
) -> None:
    broken("alarm-firing")
    waiver = 'waivers = [{ check = "alarms.*", reason = "flaps", expires = 2099-12-31 }]'
    run = run_alarms(tmp_path, sandbox_dir, extra=waiver)
    assert run.outcome == "error"
    assert run.verdict is not None
    assert (
        run.verdict["reason"]
        == f"zero gating checks: all {len(run.verdict['checks'])} checks skipped, waived or warning-only"
    )


def test_an_expired_waiver_is_void_and_said_so(
    tmp_path: Path, sandbox_dir: Path, broken: Callable[[str], None]
) -> None:
    broken("alarm-firing")
    waiver = 'waivers = [{ check = "alarms.none_firing", reason = "old", expires = 2020-01-01 }]'
    run = run_alarms(tmp_path, sandbox_dir, extra=waiver)
    assert run.outcome == "fail" and run.exit_code == 1
    assert "expired waiver ignored: alarms.none_firing (expired 2020-01-01)" in run.stdout


def test_a_warning_check_reports_but_does_not_gate(
    tmp_path: Path, sandbox_dir: Path, broken: Callable[[str], None]
) -> None:
    broken("alarm-firing")
    severity = 'severity = { "alarms.none_firing" = "warning" }'
    run = run_alarms(tmp_path, sandbox_dir, extra=f"{SECRETS}\n{severity}")
    assert run.exit_code == 0 and run.outcome == "pass", run.output
    assert run.check("alarms.none_firing")["severity"] == "warning"
    assert "FAIL  alarms.none_firing: 1 of 5 alarms in ALARM" in run.stdout
