"""The plugin's own behaviour, pinned with pytester: usage errors, header, zero checks, help."""

from __future__ import annotations

import json

import pytest

pytest_plugins = ["pytester"]

ENVIRONMENTS = """
[environments.empty]

[environments.prod]
api = { base_url = "https://api.example.test" }
"""


@pytest.fixture
def envfile(pytester: pytest.Pytester) -> str:
    path = pytester.makefile(".toml", environments=ENVIRONMENTS)
    return str(path)


def test_unknown_environment_is_one_line_and_exit_4(
    pytester: pytest.Pytester, envfile: str
) -> None:
    result = pytester.runpytest("--env=nope", "-m", "smoke")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.errlines if line.strip()] == [
        f"ERROR: unknown environment 'nope' in {envfile}; known: empty, prod"
    ]


def test_missing_env_names_the_known_ones(pytester: pytest.Pytester, envfile: str) -> None:
    result = pytester.runpytest("-m", "smoke")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: --env is required (or VERIFY_ENV); known environments: empty, prod"]
    )


def test_verify_env_variable_selects_the_environment(
    pytester: pytest.Pytester, envfile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VERIFY_ENV", "nope")
    result = pytester.runpytest("-m", "smoke")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: unknown environment 'nope' in *"])


def test_unknown_key_is_a_usage_error_without_traceback(pytester: pytest.Pytester) -> None:
    path = pytester.makefile(
        ".toml", environments='[environments.prod]\nalarms = { prefix = "p-", treshold = 3 }\n'
    )
    result = pytester.runpytest("--env=prod", "-m", "smoke")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.errlines if line.strip()] == [
        f"ERROR: {path}: environments.prod.alarms.treshold: unknown key"
    ]
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_environments_option_and_variable(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = pytester.mkdir("teams") / "envs.toml"
    other.write_text("[environments.team]\n")
    result = pytester.runpytest("--env=nope", f"--environments={other}")
    result.stderr.fnmatch_lines([f"ERROR: unknown environment 'nope' in {other}; known: team"])
    monkeypatch.setenv("VERIFY_ENVIRONMENTS", str(other))
    result = pytester.runpytest("--env=nope")
    result.stderr.fnmatch_lines([f"ERROR: unknown environment 'nope' in {other}; known: team"])


def test_negative_settle_is_refused(pytester: pytest.Pytester, envfile: str) -> None:
    result = pytester.runpytest("--env=empty", "--settle=-1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --settle must be 0 to 3600 seconds, got -1"])
    for bad in ("nan", "inf", "1e9"):
        assert (
            pytester.runpytest("--env=empty", f"--settle={bad}").ret == pytest.ExitCode.USAGE_ERROR
        )


def test_nothing_configured_is_error_never_pass(pytester: pytest.Pytester, envfile: str) -> None:
    result = pytester.runpytest("--env=empty", "-m", "smoke", "--release=r1")
    assert result.ret == 6
    result.stdout.fnmatch_lines(
        [
            "verify: env=empty region=- account=- settle=0s deadline=120s rollback=off",
            "verify: release r1 (--release)",
            "verify: checking nothing (from environments.toml)",
            "verify: not configured here: api, alb, ecs, alarms, secrets*",
            "SKIP  alarms.none_firing: alarms is not configured for env empty",
            "SKIP  2 checks: api is not configured for env empty (api.health, api.version)",
            "VERDICT: ERROR (zero gating checks: all * checks skipped, waived or warning-only) "
            "env=empty checks=* passed=0 failed=0 error=0 skipped=* in *s",
        ]
    )
    verdict = json.loads((pytester.path / "reports" / "verdict.json").read_text())
    assert verdict["verdict"] == "error"
    reasons = {c["id"]: c["message"] for c in verdict["checks"]}
    assert reasons["ecs.service_stable"] == "ecs is not configured for env empty"
    assert reasons["api.health"] == "api is not configured for env empty"
    assert (pytester.path / "reports" / "junit.xml").exists()


def test_zero_checks_selected_is_error(pytester: pytest.Pytester, envfile: str) -> None:
    result = pytester.runpytest("--env=empty", "-m", "smoke", "-k", "no_such_check")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(
        [
            "VERDICT: ERROR (zero gating checks: marker expression 'smoke' selected none) "
            "env=empty checks=0 passed=0 failed=0 error=0 skipped=0 in *s"
        ]
    )


def test_help_lists_the_options(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "post-deploy verification (verify):",
            "  --env=NAME*",
            "  --environments=FILE*",
            "  --release=ID*",
            "  --settle=SECONDS*",
            "  --rollback={off,dry-run,auto}",
            "  --reports-dir=DIR*",
        ]
    )


def test_markers_are_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.smoke: gating, fast, read-only*",
            "@pytest.mark.deep: *",
            "@pytest.mark.synthetic: *",
            "@pytest.mark.writes: *",
        ]
    )


def test_project_tests_run_without_env(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain(): assert True")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert "VERDICT" not in result.stdout.str()


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("[environments.prod]\nalarms = { prefix = }\n", ":2:21: malformed TOML: Invalid value"),
        (
            '[environments.prod]\necs = { cluster = "c", services = { a = { min_tasks = "x" } } }\n',
            ": environments.prod.ecs.services.a.min_tasks: Input should be a valid integer, "
            "unable to parse string as an integer (got str)",
        ),
    ],
)
def test_malformed_file_and_wrong_type_are_usage_errors(
    pytester: pytest.Pytester, body: str, problem: str
) -> None:
    path = pytester.makefile(".toml", environments=body)
    result = pytester.runpytest("--env=prod", "-m", "smoke")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.errlines if line.strip()] == [f"ERROR: {path}{problem}"]


def test_verify_envs_command(pytester: pytest.Pytester, envfile: str) -> None:
    from click.testing import CliRunner

    from verify.cli import main

    result = CliRunner().invoke(main, ["envs", "--environments", envfile])
    assert result.exit_code == 0
    assert result.output.splitlines() == ["empty      -", "prod       -            api"]
    broken = CliRunner().invoke(main, ["envs", "--environments", "absent.toml"])
    assert broken.exit_code == 1
    assert broken.output.strip() == (
        "Error: environments file not found: absent.toml "
        "(use --environments FILE or VERIFY_ENVIRONMENTS)"
    )
