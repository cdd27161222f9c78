"""Components from outside verify gate the verdict like built-in ones; unknown checks do not hide."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from verify.registry import Component, Registry, RegistryError, discover

pytest_plugins = ["pytester"]
TEAM = Path(__file__).resolve().parents[1] / "support" / "team"
REPO = Path(__file__).resolve().parents[2]
QUIET = ("-p", "no:randomly", "-p", "no:cacheprovider")


def billing_environments(pytester: pytest.Pytester, status: str) -> None:
    status_file = pytester.path / "billing-status"
    status_file.write_text(status)
    pytester.makefile(
        ".toml",
        environments=f'[environments.prod]\nbilling = {{ status_file = "{status_file}" }}\n',
    )


def with_team_package(pytester: pytest.Pytester) -> None:
    """The team's package on sys.path, without its installed metadata (no entry point)."""
    shutil.copytree(TEAM / "team_checks", pytester.path / "team_checks")
    pytester.syspathinsert()


@pytest.mark.parametrize(("status", "verdict", "code"), [("ok", "pass", 0), ("down", "fail", 1)])
def test_a_team_component_from_the_hook_gates_the_verdict(
    pytester: pytest.Pytester, status: str, verdict: str, code: int
) -> None:
    with_team_package(pytester)
    billing_environments(pytester, status)
    result = pytester.runpytest("--env=prod", "-m", "smoke", "-p", "team_checks.plugin", *QUIET)
    assert result.ret == code, result.stdout.str()
    document = json.loads((pytester.path / "reports" / "verdict.json").read_text())
    assert document["verdict"] == verdict
    checks = {c["id"]: c["status"] for c in document["checks"]}
    assert checks["billing.up"] == ("passed" if status == "ok" else "failed")
    assert checks["billing.one_thread"] == "passed"  # the affinity thread ran probe and handle
    assert checks["api.health"] == "skipped"  # built-in components still there, not configured


def test_a_team_component_from_an_installed_entry_point(tmp_path: Path) -> None:
    (tmp_path / "billing-status").write_text("down")
    (tmp_path / "environments.toml").write_text(
        f'[environments.prod]\nbilling = {{ status_file = "{tmp_path / "billing-status"}" }}\n'
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TEAM), str(REPO)])}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--env=prod", "-m", "smoke", *QUIET],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAIL  billing.up: billing reports 'down'; expected 'ok'" in proc.stdout
    listed = subprocess.run(
        [sys.executable, "-m", "verify.cli", "components"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "billing    the billing service says it is up" in listed.stdout
    assert "  billing.up" in listed.stdout


def test_checks_no_component_registers_are_a_collection_error(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", environments='[environments.prod]\nalarms = { prefix = "p-" }\n')
    pytester.makepyfile(
        test_queue="import pytest\npytestmark = pytest.mark.smoke\ndef test_lag(): pass\n"
    )
    result = pytester.runpytest("--env=prod", "-m", "smoke", "test_queue.py", *QUIET)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "no registered component owns these checks (known: alarms, alb, api, *ecs, *); "
            "a component's registration names its checks module (see README, Adding a component)",
            "VERDICT: ERROR (collection failed: test_queue.py: no registered component owns *",
        ]
    )
    document = json.loads((pytester.path / "reports" / "verdict.json").read_text())
    assert document["verdict"] == "error"


def test_registrations_are_checked() -> None:
    builtin = list(discover())
    ecs = next(c for c in builtin if c.name == "ecs")
    with pytest.raises(RegistryError, match="component 'ecs' is registered twice"):
        Registry([*builtin, ecs])
    with pytest.raises(RegistryError, match="component name 'thresholds' is not allowed"):
        Registry([Component("thresholds", ecs.table, ecs.checks)])
    stray = Component("x", ecs.table, "verify.checks.test_x_missing")
    with pytest.raises(
        RegistryError, match=r"checks module 'verify\.checks\.test_x_missing' not found"
    ):
        stray.checks_file  # noqa: B018


def test_the_plugin_adds_only_prefixed_fixtures_to_other_runs(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--fixtures", *QUIET)
    names = {
        line.split()[0]
        for line in result.stdout.lines
        if line and not line.startswith((" ", "-", "=")) and " -- " in line
    }
    from_verify = {n for n in names if "verify" in n or n in ("check", "release", "thresholds")}
    assert from_verify and all(n.startswith("verify_") for n in from_verify), from_verify
