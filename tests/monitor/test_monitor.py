"""`verify monitor` against the session sandbox: alerts, recovery, metrics in CloudWatch, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, SUPPORT
from tests.monitor.webhook import Receiver, webhook_receiver

# The core components only (no browser, Redis or SQL): each iteration takes about two seconds.
CORE_ENV = """
[environments.local]
sandbox = true
release_from = "sandbox"
aws = {{ region = "eu-west-1", endpoint_url = "sandbox:aws", account_id = "123456789012" }}
api = {{ base_url = "sandbox:api", verify_tls = false }}
alb = {{ target_groups = ["mobilytics-local-app-api"] }}
alarms = {{ prefix = "mobilytics-local-" }}
thresholds = {{ api_latency_ms = 750, aws_timeout_s = 5 }}
monitor = {{ metrics = "{metrics}", alert_after = 3, alerts = {{ {alerts} }} }}

[environments.local.ecs]
cluster = "mobilytics-local"
services = {{ app-api = {{ min_tasks = 2 }}, bullmq-workers = {{ min_tasks = 2 }} }}

[environments.local.secrets]
required = ["/mobilytics/local/app-api/redis-auth"]
"""


class Monitor:
    """`verify monitor` in a subprocess against the session sandbox, one reports dir per test."""

    def __init__(
        self,
        tmp_path: Path,
        sandbox_dir: Path,
        hook: Receiver,
        metrics: str,
        alerts: str = 'webhook = "env:VERIFY_TEST_WEBHOOK"',
    ) -> None:
        self.envfile = tmp_path / "environments.toml"
        self.envfile.write_text(CORE_ENV.format(metrics=metrics, alerts=alerts))
        self.reports = tmp_path / "reports"
        self.environ = {
            k: v for k, v in os.environ.items() if not k.startswith(("VERIFY_", "PYTEST_"))
        }
        self.environ.update(
            VERIFY_SANDBOX_DIR=str(sandbox_dir),
            VERIFY_TEST_WEBHOOK=hook.url,
            PYTHONUNBUFFERED="1",
            PYTHONPATH=os.pathsep.join(filter(None, [str(SUPPORT), os.environ.get("PYTHONPATH")])),
        )

    def command(self, *args: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "verify.cli",
            "monitor",
            "--env=local",
            f"--environments={self.envfile}",
            f"--reports-dir={self.reports}",
            "--interval=0",
            *args,
        ]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args),
            cwd=REPO,
            env=self.environ,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(*args),
            cwd=REPO,
            env=self.environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    @property
    def history(self) -> list[dict[str, Any]]:
        path = self.reports / "monitor" / "local" / "history.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def hook() -> Any:
    with webhook_receiver() as receiver:
        yield receiver


@pytest.fixture
def monitor(tmp_path: Path, sandbox_dir: Path, hook: Receiver) -> Callable[[str], Monitor]:
    return lambda metrics: Monitor(tmp_path, sandbox_dir, hook, metrics)


def test_an_outage_alerts_once_and_recovers_once_with_metrics_in_cloudwatch(
    monitor: Callable[[str], Monitor],
    hook: Receiver,
    broken: Callable[[str], None],
    sandbox_dir: Path,
    sandbox_aws: Callable[[str], Any],
) -> None:
    from verify import sandbox

    mon = monitor("put_metric_data")
    before = datetime.now(UTC) - timedelta(minutes=1)
    broken("alarm-firing")
    first = mon.run("--iterations=2")
    assert first.returncode == 1, first.stderr  # the last iteration's verdict: FAIL
    assert hook.bodies == []  # two failures in a row are not an outage yet
    third = mon.run("--once")  # a scheduler's --once run continues the count from the state file
    assert third.returncode == 1, third.stderr
    assert [(b["event"], b["check"]) for b in hook.bodies] == [("alert", "alarms.none_firing")]
    alert = hook.bodies[0]
    assert (alert["failures"], alert["env"], alert["status"]) == (3, "local", "failed")
    assert "mobilytics-local-api-5xx" in alert["message"]
    assert mon.run("--once").returncode == 1
    assert len(hook.bodies) == 1  # still down: no storm
    sandbox.heal(sandbox_dir)
    healed = mon.run("--iterations=2")
    assert healed.returncode == 0, healed.stderr
    assert [(b["event"], b["check"]) for b in hook.bodies] == [
        ("alert", "alarms.none_firing"),
        ("recovery", "alarms.none_firing"),
    ]
    records = mon.history
    assert [r["iteration"] for r in records] == [1, 2, 3, 4, 5, 6]
    assert [r["verdict"] for r in records] == ["fail"] * 4 + ["pass"] * 2
    assert [len(r["alerts"]) for r in records] == [0, 0, 1, 0, 1, 0]
    # The webhook URL is a secret: in no output, no history line, no state file.
    state = (mon.reports / "monitor" / "local" / "state.json").read_text()
    for run in (first, third, healed):
        assert hook.url not in run.stdout + run.stderr
    assert hook.url not in (mon.reports / "monitor" / "local" / "history.jsonl").read_text()
    assert hook.url not in state

    cloudwatch = sandbox_aws("cloudwatch")
    listed = cloudwatch.list_metrics(Namespace="Mobilytics/Verify")["Metrics"]
    dims = {
        (m["MetricName"], tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"])))
        for m in listed
    }
    check = (("Check", "alarms.none_firing"), ("Environment", "local"))
    assert ("CheckPassed", check) in dims and ("CheckDuration", check) in dims
    assert ("SuccessPercent", (("Environment", "local"),)) in dims
    assert ("Duration", (("Environment", "local"),)) in dims
    stats = cloudwatch.get_metric_statistics(
        Namespace="Mobilytics/Verify",
        MetricName="CheckPassed",
        Dimensions=[{"Name": k, "Value": v} for k, v in check],
        StartTime=before,
        EndTime=datetime.now(UTC) + timedelta(minutes=1),
        Period=3600,
        Statistics=["Sum", "SampleCount"],
    )["Datapoints"]
    assert sum(p["SampleCount"] for p in stats) == 6  # one value per iteration
    assert sum(p["Sum"] for p in stats) == 2  # passed only in the two healed iterations


def test_emf_metrics_go_to_stdout_as_one_json_document_per_line(
    monitor: Callable[[str], Monitor],
) -> None:
    mon = monitor("emf")
    done = mon.run("--once")
    assert done.returncode == 0, done.stderr
    documents = [json.loads(line) for line in done.stdout.splitlines()]
    assert documents and all("_aws" in d for d in documents)
    checks = {d["Check"]: d for d in documents if "Check" in d}
    assert checks["api.health"]["CheckPassed"] == 1.0
    overall = [d for d in documents if "Check" not in d]
    assert len(overall) == 1 and overall[0]["SuccessPercent"] == 100.0
    assert "iteration 1 PASS" in done.stderr


def test_sigterm_mid_iteration_finishes_it_and_exits_cleanly(
    monitor: Callable[[str], Monitor],
) -> None:
    mon = monitor("off")
    proc = mon.start()  # no --iterations: runs until stopped
    log = mon.reports / "monitor" / "local" / "last" / "pytest.log"
    deadline = time.monotonic() + 60
    while not log.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert log.exists(), "the first iteration never started"
    time.sleep(0.3)  # inside the run (an iteration takes about two seconds)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "SIGTERM: finishing the current iteration" in stderr
    records = mon.history
    assert len(records) == 1  # the iteration under way was finished and recorded, no other began
    assert records[0]["verdict"] == "pass" and records[0]["checks"]


def test_a_bad_monitor_key_is_one_line_and_exit_4(tmp_path: Path) -> None:
    envfile = tmp_path / "environments.toml"
    envfile.write_text(
        '[environments.prod]\napi = { base_url = "https://api.example.com" }\n'
        'monitor = { metrics = "statsd" }\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "verify.cli", "monitor", "--env=prod", f"--environments={envfile}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 4
    assert done.stderr.strip().splitlines() == [
        f"verify monitor: {envfile}: environments.prod.monitor.metrics: "
        "Input should be 'emf', 'put_metric_data' or 'off' (got str)"
    ]


def test_a_literal_webhook_url_is_refused_outside_the_sandbox(tmp_path: Path) -> None:
    envfile = tmp_path / "environments.toml"
    envfile.write_text(
        '[environments.prod]\napi = { base_url = "https://api.example.com" }\n'
        'monitor = { alerts = { webhook = "https://hooks.example.com/T0/B0/secret" } }\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "verify.cli", "monitor", "--env=prod", f"--environments={envfile}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 4
    assert "monitor.alerts.webhook: literal secrets are refused" in done.stderr
    assert "hooks.example.com" not in done.stderr


def test_with_no_sandbox_up_it_starts_one_and_leaves_nothing_behind(
    tmp_path: Path, hook: Receiver
) -> None:
    own = tmp_path / "own-sandbox"  # not the session's: this run must start (and stop) its own
    mon = Monitor(tmp_path, own, hook, "put_metric_data")
    done = mon.run("--iterations=2")
    assert done.returncode == 0, done.stderr
    assert f"starting the sandbox in {own}" in done.stderr
    assert [r["verdict"] for r in mon.history] == ["pass", "pass"]
    assert all(r["metrics"] == "put_metric_data: 1 call(s)" for r in mon.history)
    assert not own.exists()  # stopped, and its directory removed


def test_alerts_and_recoveries_reach_an_sns_topic(
    tmp_path: Path,
    sandbox_dir: Path,
    hook: Receiver,
    broken: Callable[[str], None],
    sandbox_aws: Callable[[str], Any],
) -> None:
    from verify import sandbox

    sns, sqs = sandbox_aws("sns"), sandbox_aws("sqs")
    topic = sns.create_topic(Name="mobilytics-local-verify-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="verify-alerts-subscriber")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
    mon = Monitor(tmp_path, sandbox_dir, hook, "off", alerts=f'sns_topic_arn = "{topic}"')

    def published() -> list[dict[str, Any]]:
        answer = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        return [json.loads(json.loads(m["Body"])["Message"]) for m in answer.get("Messages", [])]

    broken("alarm-firing")
    assert mon.run("--iterations=2", "--alert-after=1").returncode == 1
    assert [(e["event"], e["check"]) for e in published()] == [("alert", "alarms.none_firing")]
    sandbox.heal(sandbox_dir)
    assert mon.run("--once").returncode == 0
    assert [(e["event"], e["check"]) for e in published()] == [("recovery", "alarms.none_firing")]
    assert hook.bodies == []  # no webhook configured here


def test_a_selection_that_matches_nothing_stops_at_once_with_pytests_code(
    monitor: Callable[[str], Monitor],
) -> None:
    mon = monitor("off")
    done = mon.run("-m", "nonsense")  # no --iterations: it would run forever
    assert done.returncode == 5, done.stderr
    assert "the selection cannot run (pytest exit 5); stopping" in done.stderr
    (record,) = mon.history
    assert record["verdict"] == "error" and record["success_percent"] == 0.0


def test_aws_refusing_everything_is_error_and_metrics_failure_does_not_stop_it(
    monitor: Callable[[str], Monitor], broken: Callable[[str], None]
) -> None:
    mon = monitor("put_metric_data")
    broken("aws-access-denied")  # every AWS call, PutMetricData included, answers AccessDenied
    done = mon.run("--iterations=2")
    assert done.returncode == 6, done.stderr  # ERROR: could not observe, never PASS
    records = mon.history
    assert [r["verdict"] for r in records] == ["error", "error"]  # it went on after the first
    assert all(r["metrics"].startswith("error: ") for r in records)
    assert "AccessDenied" in records[0]["metrics"]
    assert "metrics not published" in done.stderr
    assert "Traceback" not in done.stderr
