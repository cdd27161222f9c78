"""Secrets never reach any output: the whole smoke suite, every fault, at the loudest settings."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import REPO, VerifyRun, run_with_environments

LOUD = (
    "-vvv",
    "--tb=long",
    "-l",
    "--log-level=DEBUG",
    "-o",
    "log_cli=true",
    "--log-cli-level=DEBUG",
    "-rA",
)
# Faults broken together, one run per group: those that would hide the others' answers (a process
# down, every AWS call refused, Redis unreachable) or undo them (no workers) go in groups of their own.
APART = (
    {
        "api-down",
        "aws-throttled",
        "redis-auth-wrong",
        "queue-no-workers",
        "queue-stalled",
        "db-auth-wrong",
    },
    {"aws-access-denied", "redis-down", "db-down"},
)


def outputs(run: VerifyRun, *extra: Path) -> str:
    files = [p for p in run.reports.rglob("*") if p.is_file()]
    files += [
        p for root in extra for p in (root.rglob("*") if root.is_dir() else [root]) if p.is_file()
    ]
    return run.output + "\n".join(p.read_text(errors="replace") for p in files)


def test_no_secret_in_any_output_of_any_fault(
    tmp_path: Path,
    sandbox_dir: Path,
    sandbox_state: Any,
    sandbox_secrets: dict[str, str],
    broken: Callable[[str], None],
) -> None:
    from verify import sandbox
    from verify.sandbox.catalog import FAULTS

    token = f"tok-{secrets.token_hex(20)}"
    body = (
        (REPO / "environments.toml")
        .read_text()
        .replace(
            'api = { base_url = "sandbox:api", verify_tls = false }',
            'api = { base_url = "sandbox:api", verify_tls = false, auth_token = "env:VERIFY_API_TOKEN" }',
        )
    )
    assert "VERIFY_API_TOKEN" in body
    hidden = {
        "the API token": token,
        "the sandbox token": sandbox_state.token,
        "the AWS access key id": sandbox_state.access_key_id,
        "the AWS secret key": sandbox_state.secret_access_key,
        **{f"secret {name}": value for name, value in sandbox_secrets.items()},
    }
    faults = {f.name for f in FAULTS if f.expect != "pass"}
    groups = [faults - set().union(*APART), *(group & faults for group in APART)]
    leaks: list[str] = []
    for index, group in enumerate(groups):
        for fault in sorted(group):
            broken(fault)
        workdir = tmp_path / f"run-{index}"
        workdir.mkdir()
        summary = tmp_path / f"summary-{index}.md"
        allure = tmp_path / f"allure-{index}"
        run = run_with_environments(
            workdir,
            body,
            *LOUD,
            f"--alluredir={allure}",
            env={
                "VERIFY_SANDBOX_DIR": str(sandbox_dir),
                "VERIFY_API_TOKEN": token,
                "GITHUB_STEP_SUMMARY": str(summary),
            },
        )
        assert run.outcome in ("fail", "error"), run.output
        text = outputs(run, allure, summary, *sandbox_dir.glob("*.log"))
        leaks += [f"{what} in run {index}" for what, value in hidden.items() if value in text]
        sandbox.heal(sandbox_dir)
    assert leaks == []
