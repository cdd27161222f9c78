"""The shared AWS helpers: botocore errors as one-line ProbeErrors, batching and the call pool."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from verify.probes.aws.calls import InlineExecutor, aws_errors, call_pool, chunked
from verify.probes.aws.cloudwatch import observe_alarms
from verify.probes.aws.secrets import observe_secret
from verify.probes.errors import ProbeError

NO_RETRIES = Config(
    retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=0.5, read_timeout=0.3
)


def client(service: str, endpoint: str, **credentials: str) -> Any:
    session = boto3.session.Session(region_name="eu-west-1", **credentials)
    return session.client(service, endpoint_url=endpoint, config=NO_RETRIES)


@pytest.fixture
def refused_endpoint() -> str:
    """A loopback URL nobody listens on: bind a port, then close it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A loopback URL whose listener completes the handshake but never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_client_error_without_retries_is_code_and_message() -> None:
    error = ClientError(
        {"Error": {"Code": "ValidationException", "Message": "bad\n  input"}}, "DescribeServices"
    )
    with pytest.raises(ProbeError) as raised, aws_errors("ecs:DescribeServices cluster=c"):
        raise error
    assert str(raised.value) == "ecs:DescribeServices cluster=c: ValidationException: bad input"
    # Not chained: a botocore exception's frames and request repr can carry signed headers.
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_non_botocore_errors_pass_through() -> None:
    with pytest.raises(KeyError), aws_errors("ecs:DescribeServices"):
        raise KeyError("a bug is a bug, not a probe error")


def test_refused_endpoint_is_a_probe_error(refused_endpoint: str) -> None:
    cloudwatch = client(
        "cloudwatch", refused_endpoint, aws_access_key_id="t", aws_secret_access_key="t"
    )
    with pytest.raises(ProbeError) as raised:
        observe_alarms(cloudwatch, "mobilytics-prod-")
    assert raised.value.target == "cloudwatch:DescribeAlarms prefix=mobilytics-prod-"
    assert raised.value.cause == f"cannot connect to {refused_endpoint}/ (connection refused)"


def test_silent_endpoint_is_a_read_timeout(silent_endpoint: str) -> None:
    secrets = client(
        "secretsmanager", silent_endpoint, aws_access_key_id="t", aws_secret_access_key="t"
    )
    with pytest.raises(ProbeError) as raised:
        observe_secret(secrets, "/mobilytics/prod/x")
    assert raised.value.cause == f"no answer from {silent_endpoint}/ within 0.3 s (read timeout)"


def test_no_credentials_is_a_probe_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, refused_endpoint: str
) -> None:
    for variable in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ]:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata probing
    secrets = client("secretsmanager", refused_endpoint)

    with pytest.raises(ProbeError) as raised:
        observe_secret(secrets, "/mobilytics/prod/x")

    assert raised.value.cause == "no AWS credentials found (profile/SSO/env/role)"


def test_chunked() -> None:
    assert chunked(list(range(23)), 10) == [list(range(10)), list(range(10, 20)), [20, 21, 22]]
    assert chunked([], 10) == []


def test_inline_executor_runs_in_order_in_the_callers_thread() -> None:
    ran: list[tuple[int, str]] = []
    with call_pool(1) as pool:
        assert isinstance(pool, InlineExecutor)
        futures = [
            pool.submit(lambda n=n: ran.append((n, threading.current_thread().name)))
            for n in range(3)
        ]
        failing = pool.submit(int, "not a number")
    assert ran == [(n, threading.current_thread().name) for n in range(3)]
    assert all(future.done() for future in futures)
    with pytest.raises(ValueError):
        failing.result()


def test_pool_runs_calls_at_once() -> None:
    barrier = threading.Barrier(3, timeout=2)  # only passes if three calls run together
    with call_pool(3) as pool:
        results = [pool.submit(barrier.wait) for _ in range(3)]
    assert sorted(future.result() for future in results) == [0, 1, 2]
