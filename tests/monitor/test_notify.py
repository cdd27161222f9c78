"""Alert delivery to a real webhook server: what it posts, and failures that never show the URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.monitor.webhook import webhook_receiver
from verify.deliver import DeliveryError
from verify.monitor.alerts import Event
from verify.monitor.notify import send

EVENT = Event("alert", "prod", "api.health", "failed", 3, "2026-12-06T03:00:00+00:00", "503")


def environment(tmp_path: Path, monitor: str, name: str = "prod") -> object:
    from verify.clients import AwsClients
    from verify.config import load
    from verify.registry import discover

    envfile = tmp_path / "environments.toml"
    envfile.write_text(
        f'[environments.{name}]\napi = {{ base_url = "https://api.example.com" }}\n{monitor}\n'
    )
    env = load(envfile, name, discover())
    return env, AwsClients(env)


def test_the_webhook_gets_the_event_as_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with webhook_receiver() as hook:
        monkeypatch.setenv("VERIFY_TEST_HOOK", hook.url)
        env, aws = environment(
            tmp_path, 'monitor = { alerts = { webhook = "env:VERIFY_TEST_HOOK" } }'
        )
        assert send(EVENT, env, aws) == ["webhook"]  # type: ignore[arg-type]
    (body,) = hook.bodies
    assert body["event"] == "alert" and body["check"] == "api.health" and body["failures"] == 3
    assert body["text"].startswith("[verify prod] ALERT api.health: failed 3 times in a row")


def failure_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str) -> str:
    monkeypatch.setenv("VERIFY_TEST_HOOK", url)
    env, aws = environment(tmp_path, 'monitor = { alerts = { webhook = "env:VERIFY_TEST_HOOK" } }')
    with pytest.raises(DeliveryError) as caught:
        send(EVENT, env, aws)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "env:VERIFY_TEST_HOOK" in message  # names the reference, never the value
    assert url not in message and "T0KEN" not in message
    return message


def test_a_refusing_webhook_fails_in_one_line_without_the_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with webhook_receiver() as hook:
        url = hook.url
    # The server is gone: connection refused.
    assert "ConnectError" in failure_message(tmp_path, monkeypatch, url)


def test_a_webhook_answering_500_fails_without_the_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with webhook_receiver() as hook:
        hook.status = 500
        assert "HTTP 500" in failure_message(tmp_path, monkeypatch, hook.url)
    assert hook.bodies == []


def test_plain_http_to_another_host_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VERIFY_TEST_HOOK", "http://hooks.example.com/T0KEN-abcdef")
    env, aws = environment(tmp_path, 'monitor = { alerts = { webhook = "env:VERIFY_TEST_HOOK" } }')
    with pytest.raises(DeliveryError, match="plain http:// to another host"):
        send(EVENT, env, aws)  # type: ignore[arg-type]


def test_overlapping_runs_take_turns_on_the_alert_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fcntl
    import threading
    from datetime import UTC, datetime

    from verify.monitor.iteration import Iteration, Sample
    from verify.monitor.loop import Monitor, Options

    env, aws = environment(tmp_path, "monitor = { alert_after = 1 }")
    options = Options(env="prod", environments=tmp_path / "environments.toml")
    options.reports_dir = tmp_path / "reports"
    mon = Monitor(options, env, aws)  # type: ignore[arg-type]
    failing = Iteration(
        1, "prod", datetime.now(UTC), 1.0, "fail", "", 1, (Sample("api.health", "failed", 1.0),)
    )
    mon.home.mkdir(parents=True)
    results: list[list[dict[str, object]]] = []
    with (mon.home / "state.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another run is folding its iteration in
        worker = threading.Thread(target=lambda: results.append(mon._alert(failing)))
        worker.start()
        worker.join(0.5)
        assert worker.is_alive() and not results  # it waits its turn
    worker.join(10)
    assert [e["event"] for e in results[0]] == ["alert"]
    assert [e["event"] for e in mon._alert(failing)] == []  # the state it saved says: alerted
