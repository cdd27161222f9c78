"""CodeDeploy (botocore Stubber: moto lacks the call) and the webhook against a real local server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from verify.actions.base import HookContext
from verify.actions.models import CodeDeployHook, RollbackConfig, WebhookHook
from verify.actions.runner import run_hooks, run_one
from verify.config import EnvConfig


class OneClient:
    """Stands in for AwsClients: hands out one stubbed client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def client(self, service: str) -> Any:
        return self._client


def env_with(hooks: list[dict[str, Any]], name: str = "staging") -> EnvConfig:
    from verify.config import load, models
    from verify.registry import discover

    base = load(Path(__file__).resolve().parents[2] / "environments.toml", "staging", discover())
    rollback = RollbackConfig.model_validate({"mode": "auto", "hooks": hooks})
    spec = base.spec.model_copy(update={"rollback": rollback})
    del models
    return base.model_copy(update={"spec": spec, "name": name})


def context(env: EnvConfig, outcome: str, aws: Any, **extra: Any) -> HookContext:
    return HookContext(
        env=env,
        outcome=outcome,
        reason="1 of 13 checks failed" if outcome == "fail" else "13 gating checks passed",
        release="2026.12.06-1",
        verdict_path=Path("reports/verdict.json"),
        dry_run=False,
        aws=aws,
        ends=time.monotonic(),
        **extra,
    )


@pytest.fixture
def codedeploy() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "codedeploy", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    with Stubber(client) as stubber:
        yield client, stubber


@pytest.mark.parametrize(
    ("outcome", "status"), [("pass", "Succeeded"), ("fail", "Failed"), ("error", "Failed")]
)
def test_codedeploy_reports_the_verdict(
    codedeploy: tuple[Any, Stubber], outcome: str, status: str
) -> None:
    client, stubber = codedeploy
    stubber.add_response(
        "put_lifecycle_event_hook_execution_status",
        {"lifecycleEventHookExecutionId": "exec-1"},
        {"deploymentId": "d-ABC123", "lifecycleEventHookExecutionId": "exec-1", "status": status},
    )
    env = env_with([{"type": "codedeploy"}])
    ctx = context(env, outcome, OneClient(client), codedeploy_ids=("d-ABC123", "exec-1"))

    result = run_one(env.spec.rollback.hooks[0], ctx)

    assert result.status == "ok", result
    assert result.message == f"reported {status} to CodeDeploy deployment d-ABC123"
    stubber.assert_no_pending_responses()


def test_codedeploy_ids_from_the_environment(
    codedeploy: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stubber = codedeploy
    monkeypatch.setenv("VERIFY_CODEDEPLOY_DEPLOYMENT_ID", "d-ENV")
    monkeypatch.setenv("VERIFY_CODEDEPLOY_HOOK_EXECUTION_ID", "exec-env")
    stubber.add_response(
        "put_lifecycle_event_hook_execution_status",
        {},
        {"deploymentId": "d-ENV", "lifecycleEventHookExecutionId": "exec-env", "status": "Failed"},
    )
    env = env_with([{"type": "codedeploy"}])

    assert (
        run_one(env.spec.rollback.hooks[0], context(env, "fail", OneClient(client))).status == "ok"
    )


def test_codedeploy_without_ids_or_refused_fails_with_the_command_to_run(
    codedeploy: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stubber = codedeploy
    monkeypatch.delenv("VERIFY_CODEDEPLOY_DEPLOYMENT_ID", raising=False)
    hook = CodeDeployHook(type="codedeploy")
    env = env_with([])
    missing = run_one(hook, context(env, "pass", OneClient(client)))
    assert missing.status == "failed" and "no CodeDeploy deployment id" in missing.message
    stubber.add_client_error(
        "put_lifecycle_event_hook_execution_status",
        "LifecycleEventAlreadyCompletedException",
        "already completed",
    )
    refused = run_one(hook, context(env, "fail", OneClient(client), codedeploy_ids=("d-1", "e-1")))
    assert refused.status == "failed"
    assert "LifecycleEventAlreadyCompletedException" in refused.message
    assert "--status Failed" in (refused.manual or "")


class Inbox(BaseHTTPRequestHandler):
    """A real local receiver: records each POST, answers with the status it was told."""

    server: Any

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.path, self.headers.get("Content-Type"), json.loads(body)))
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def inbox() -> Iterator[Any]:
    server = HTTPServer(("127.0.0.1", 0), Inbox)
    server.received = []  # type: ignore[attr-defined]
    server.status = 200  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_webhook_posts_a_slack_compatible_summary_and_never_shows_its_url(
    inbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_path = "/services/T000/B000/secret-token-xyzzy-123456"
    url = f"http://127.0.0.1:{inbox.server_address[1]}{secret_path}"
    monkeypatch.setenv("VERIFY_TEST_WEBHOOK", url)
    env = env_with([{"type": "webhook", "url": "env:VERIFY_TEST_WEBHOOK"}])
    ctx = context(env, "fail", OneClient(None))

    section = run_hooks("auto", ctx, rerun=None)

    [(path, content_type, payload)] = inbox.received
    assert path == secret_path and content_type == "application/json"
    assert payload["text"].startswith("verify staging release 2026.12.06-1: FAIL")
    assert payload["verdict"] == "fail" and payload["env"] == "staging"
    [hook] = section["hooks"]
    assert hook["status"] == "ok" and "HTTP 200" in hook["message"]
    assert "secret-token-xyzzy" not in json.dumps(section)


def test_webhook_refused_is_a_failed_hook(inbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox.status = 500
    monkeypatch.setenv("VERIFY_TEST_WEBHOOK", f"http://127.0.0.1:{inbox.server_address[1]}/hook")
    hook = WebhookHook(type="webhook", url="env:VERIFY_TEST_WEBHOOK")

    result = run_one(hook, context(env_with([]), "pass", OneClient(None)))

    assert (
        result.status == "failed"
        and result.message == "webhook (env:VERIFY_TEST_WEBHOOK) answered HTTP 500"
    )
    assert result.manual and result.manual.startswith("tell the channel by hand")


def test_a_hook_past_its_timeout_is_failed_and_left_behind(tmp_path: Path) -> None:
    from verify.actions.models import CommandHook

    hook = CommandHook(type="command", argv=["sleep", "30"], timeout_s=0.5)
    started = time.monotonic()

    result = run_one(hook, context(env_with([]), "fail", OneClient(None)))

    assert time.monotonic() - started < 5
    assert result.status == "failed" and "did not finish within 0.5 s" in result.message


def test_hook_config_errors_are_one_line_with_the_key_path(tmp_path: Path) -> None:
    from verify.config import ConfigError, load
    from verify.registry import discover

    envfile = tmp_path / "environments.toml"
    envfile.write_text(
        '[environments.prod]\nrollback = { mode = "auto", hooks = [{ type = "webhok" }] }\n'
    )
    with pytest.raises(ConfigError, match=r"environments\.prod\.rollback\.hooks\.0"):
        load(envfile, "prod", discover())
    envfile.write_text(
        "[environments.prod]\n"
        'rollback = { hooks = [{ type = "webhook", url = "https://hooks.slack.com/x" }] }\n'
    )
    with pytest.raises(ConfigError, match="literal secrets are refused"):
        load(envfile, "prod", discover())


def test_webhook_refuses_plain_http_off_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERIFY_TEST_WEBHOOK", "http://hooks.example.invalid/T000/secret-abc-123456")
    hook = WebhookHook(type="webhook", url="env:VERIFY_TEST_WEBHOOK")

    result = run_one(hook, context(env_with([]), "fail", OneClient(None)))

    assert result.status == "failed" and "is not https://" in result.message
    assert "env:VERIFY_TEST_WEBHOOK" in result.message and "secret-abc" not in result.message
