"""Bad targets never PASS and never print a traceback: the check is `error`, the verdict ERROR."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import VerifyRun, run_with_environments

AWS_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_clean_error(run: VerifyRun, check_ids: set[str], fragment: str) -> None:
    assert run.outcome == "error", run.output
    assert run.exit_code == 6
    assert run.ids("error") == check_ids, run.output
    for check_id in check_ids:
        message = run.check(check_id)["message"]
        assert fragment in message and "\n" not in message, message
    assert "Traceback" not in run.output
    assert "VERDICT: ERROR (" in run.stdout


def test_aws_endpoint_refusing_connections(tmp_path: Path) -> None:
    port = closed_port()
    run = run_with_environments(
        tmp_path,
        f"""
[environments.local]
aws = {{ region = "eu-west-1", endpoint_url = "http://127.0.0.1:{port}" }}
alarms = {{ prefix = "mobilytics-local-" }}
secrets = {{ required = ["/mobilytics/local/app-api/redis-auth"] }}
thresholds = {{ aws_max_attempts = 1 }}
""",
        env=AWS_KEYS,
    )
    assert_clean_error(run, {"alarms.none_firing", "secrets.present"}, f"127.0.0.1:{port}")
    assert "connection refused" in run.check("alarms.none_firing")["message"]


def test_no_aws_credentials(tmp_path: Path) -> None:
    run = run_with_environments(
        tmp_path,
        f"""
[environments.local]
aws = {{ region = "eu-west-1", endpoint_url = "http://127.0.0.1:{closed_port()}" }}
alarms = {{ prefix = "mobilytics-local-" }}
""",
        env={
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
        },
    )
    assert_clean_error(run, {"alarms.none_firing"}, "no AWS credentials")


def test_unresolvable_api_host(tmp_path: Path) -> None:
    run = run_with_environments(
        tmp_path,
        """
[environments.local]
api = { base_url = "http://api.mobilytics.invalid" }
""",
    )
    assert_clean_error(
        run, {"api.health"}, "http://api.mobilytics.invalid/health: cannot resolve host"
    )


SANDBOXED = """
[environments.local]
sandbox = true
aws = {{ region = "eu-west-1", endpoint_url = "sandbox:aws" }}
api = {{ base_url = "sandbox:api"{api_extra} }}
thresholds = {{ http_timeout_s = 0.5 }}
"""


def test_api_probe_timeout(
    tmp_path: Path, sandbox_dir: Path, broken: Callable[[str], None]
) -> None:
    broken("api-slow")
    run = run_with_environments(
        tmp_path, SANDBOXED.format(api_extra=""), env={"VERIFY_SANDBOX_DIR": str(sandbox_dir)}
    )
    assert_clean_error(run, {"api.health"}, "/health: no complete answer within 0.5 s")
    assert run.check("api.version")["status"] == "skipped"


@pytest.mark.parametrize(
    ("reference", "cause"),
    [
        ("secretsmanager:/mobilytics/local/app-api/smoke-token", "secret not found"),
        ("env:VERIFY_TEST_UNSET_TOKEN", "environment variable VERIFY_TEST_UNSET_TOKEN is not set"),
        ("secretsmanager:/mobilytics/local/app-api/database-url#token", "secret is not JSON"),
    ],
)
def test_missing_secret_reference(
    tmp_path: Path, sandbox_dir: Path, reference: str, cause: str
) -> None:
    body = SANDBOXED.format(api_extra=f', auth_token = "{reference}"')
    run = run_with_environments(tmp_path, body, env={"VERIFY_SANDBOX_DIR": str(sandbox_dir)})
    assert_clean_error(run, {"api.health"}, f"{reference}: {cause}")


def test_resolved_secret_never_shown(
    tmp_path: Path, sandbox_dir: Path, sandbox_secrets: dict[str, Any]
) -> None:
    name = "/mobilytics/local/app-api/jwt-signing-key"
    body = SANDBOXED.format(api_extra=f', auth_token = "secretsmanager:{name}"')
    run = run_with_environments(
        tmp_path, body, "--release=x", env={"VERIFY_SANDBOX_DIR": str(sandbox_dir)}
    )
    assert run.check("api.health")["status"] == "passed", run.output
    value = sandbox_secrets[name]
    assert value not in run.output
    for path in run.reports.rglob("*"):
        if path.is_file():
            assert value not in path.read_text(errors="replace"), path
