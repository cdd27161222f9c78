"""One sandbox for the whole test session; each test heals what it broke."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
# A team's component package used by the registry tests: its checks run only through verify.
collect_ignore = ["support/team"]
SUPPORT = Path(__file__).resolve().parent / "support"
ECS_CHECKS = {
    f"ecs.{check}[{service}]"
    for check in ("service_stable", "tasks_healthy", "release", "no_crash_loop")
    for service in ("app-api", "bullmq-workers")
}
AWS_CHECKS = {"alb.targets_healthy", "alarms.none_firing", "secrets.present", *ECS_CHECKS}
CORE_CHECKS = {"api.health", "api.version", *AWS_CHECKS}  # the core components' smoke checks
# Runs about the core components leave out the others' checks (a browser, Redis, SQL): faster.
CORE_ONLY = ("-k", "not frontends and not queues and not redis and not db and not rds")
# Every check but the browser's and the queues' (the database tests' runs: seconds, not a minute).
NO_BROWSER_NO_QUEUES = ("-k", "not frontends and not queues and not redis")


@pytest.fixture(autouse=True, scope="session")
def _names_resolve_locally() -> Iterator[None]:
    """The tests' own process never asks a DNS server either."""
    from tests.support import loopback

    loopback.install()
    yield
    loopback.uninstall()


@dataclass
class VerifyRun:
    """One `pytest --env=...` run of the packaged checks in a subprocess."""

    exit_code: int
    stdout: str
    stderr: str
    verdict: dict[str, Any] | None
    reports: Path

    @property
    def outcome(self) -> str | None:
        return self.verdict["verdict"] if self.verdict else None

    def check(self, check_id: str) -> dict[str, Any]:
        assert self.verdict is not None, (
            f"no verdict.json; stderr:\n{self.stderr}\nstdout:\n{self.stdout}"
        )
        for entry in self.verdict["checks"]:
            if entry["id"] == check_id:
                return dict(entry)
        raise AssertionError(
            f"{check_id} not in verdict: {[c['id'] for c in self.verdict['checks']]}"
        )

    def ids(self, status: str) -> set[str]:
        assert self.verdict is not None, (
            f"no verdict.json; stderr:\n{self.stderr}\nstdout:\n{self.stdout}"
        )
        return {c["id"] for c in self.verdict["checks"] if c["status"] == status}

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture(scope="session")
def sandbox_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from verify import sandbox

    directory = tmp_path_factory.mktemp("sandbox")
    sandbox.up(directory)
    yield directory
    sandbox.down(directory)


@pytest.fixture(scope="session")
def sandbox_state(sandbox_dir: Path) -> Any:
    from verify import sandbox

    state = sandbox.load_state(sandbox_dir)
    assert state is not None
    return state


@pytest.fixture
def broken(sandbox_dir: Path) -> Iterator[Callable[[str], None]]:
    """`broken("api-5xx")` breaks the session sandbox; every fault is healed after the test."""
    from verify import sandbox

    yield lambda fault: sandbox.break_fault(sandbox_dir, fault)
    sandbox.heal(sandbox_dir)


def subprocess_command(
    *args: str, reports: Path, env: dict[str, str] | None = None
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of a `pytest --env=...` subprocess."""
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("VERIFY_", "PYTEST_", "GITHUB_"))
    }
    environ.update(env or {})
    environ["PYTHONUNBUFFERED"] = "1"
    # Every subprocess resolves names on this machine only (see support/sitecustomize.py).
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SUPPORT), environ.get("PYTHONPATH")]))
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        f"--reports-dir={reports}",
        *args,
    ]
    return command, environ


def verify_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path = REPO, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`verify ARGS...` in a subprocess, without the caller's VERIFY_* variables unless given."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("VERIFY_")}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "verify.cli", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def finished(reports: Path, code: int, stdout: str, stderr: str) -> VerifyRun:
    verdict_file = reports / "verdict.json"
    verdict = json.loads(verdict_file.read_text()) if verdict_file.exists() else None
    return VerifyRun(code, stdout, stderr, verdict, reports)


def run_pytest(
    *args: str,
    reports: Path,
    env: dict[str, str] | None = None,
    cwd: Path = REPO,
    timeout: float = 300,
) -> VerifyRun:
    command, environ = subprocess_command(*args, reports=reports, env=env)
    proc = subprocess.run(
        command, cwd=cwd, env=environ, capture_output=True, text=True, timeout=timeout
    )
    return finished(reports, proc.returncode, proc.stdout, proc.stderr)


def run_with_environments(
    tmp_path: Path,
    body: str,
    *args: str,
    env: dict[str, str] | None = None,
    env_name: str = "local",
) -> VerifyRun:
    """`pytest --env=<env_name> -m smoke` with `body` as the environments file."""
    envfile = tmp_path / "environments.toml"
    envfile.write_text(body)
    return run_pytest(
        f"--env={env_name}",
        f"--environments={envfile}",
        "-m",
        "smoke",
        *args,
        reports=tmp_path / "reports",
        env=env,
    )


@pytest.fixture
def run_verify(sandbox_dir: Path, tmp_path: Path) -> Callable[..., VerifyRun]:
    """Run the packaged checks against the session sandbox; reports go to a fresh tmp dir."""
    counter = iter(range(1000))

    def run(*args: str, env: dict[str, str] | None = None) -> VerifyRun:
        reports = tmp_path / f"reports-{next(counter)}"
        extra = {"VERIFY_SANDBOX_DIR": str(sandbox_dir), **(env or {})}
        return run_pytest(*args, reports=reports, env=extra)

    return run


@pytest.fixture(scope="session")
def sandbox_aws(sandbox_state: Any) -> Callable[[str], Any]:
    """boto3 clients against the session sandbox (for tests that look behind the checks)."""
    from verify.sandbox.access import aws_client

    return lambda service: aws_client(sandbox_state, service)


@pytest.fixture
def sandbox_secrets(sandbox_aws: Callable[[str], Any]) -> dict[str, str]:
    """Every secret value the sandbox holds right now: none may appear in any output."""
    client = sandbox_aws("secretsmanager")
    names = [s["Name"] for s in client.list_secrets()["SecretList"]]
    return {name: client.get_secret_value(SecretId=name)["SecretString"] for name in names}
