"""security_headers can fail: a surface that requires a header the edge does not send."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import run_with_environments

ENV = """
[environments.local]
sandbox = true
aws = {{ region = "eu-west-1", endpoint_url = "sandbox:aws", account_id = "123456789012" }}

[environments.local.frontends.support]
url = "sandbox:support_edge"
http_url = "sandbox:support_http"
ca_bundle = "sandbox:edge_ca"
routes = ["/"]
security_headers = ["strict-transport-security", "{required}"]
forbidden_headers = ["{forbidden}"]
"""


def _run(tmp_path: Path, sandbox_dir: Path, required: str, forbidden: str) -> Any:
    return run_with_environments(
        tmp_path,
        ENV.format(required=required, forbidden=forbidden),
        "-m",
        "deep",
        env={"VERIFY_SANDBOX_DIR": str(sandbox_dir)},
    )


def test_missing_required_header_fails(tmp_path: Path, sandbox_dir: Path) -> None:
    run = _run(tmp_path, sandbox_dir, "permissions-policy", "x-powered-by")
    assert run.outcome == "fail", run.output
    failed = run.check("frontends.security_headers[support]")
    assert "missing security header(s) permissions-policy; expected present" in failed["message"]


def test_forbidden_header_fails_and_edge_defaults_pass(tmp_path: Path, sandbox_dir: Path) -> None:
    run = _run(tmp_path, sandbox_dir, "x-content-type-options", "via")
    assert run.outcome == "fail", run.output
    assert (
        "sends via; expected it hidden"
        in run.check("frontends.security_headers[support]")["message"]
    )
    (tmp_path / "ok").mkdir()
    ok = _run(tmp_path / "ok", sandbox_dir, "referrer-policy", "x-powered-by")
    assert ok.outcome == "pass", ok.output
