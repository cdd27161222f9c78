"""What every AWS probe shares: botocore errors as ProbeError, batching, and a small call pool."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from verify.probes.errors import ProbeError
from verify.text import one_line
from verify.threads import DaemonExecutor

if TYPE_CHECKING:
    from botocore.client import BaseClient
    from botocore.exceptions import BotoCoreError, ClientError

P = ParamSpec("P")
T = TypeVar("T")

# Concurrent calls per probe; botocore's default connection pool holds 10 per client.
DEFAULT_MAX_WORKERS = 8


@contextmanager
def aws_errors(target: str, client: BaseClient | None = None) -> Iterator[None]:
    """Turn any botocore exception raised inside into ProbeError(target, one-line cause).

    `target` names the operation and its scope (`ecs:DescribeServices cluster=prod`); `client`, when
    given, lets a timeout message quote the configured timeout.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as error:
        raise ProbeError(target, client_error_cause(error)) from None
    except BotoCoreError as error:
        raise ProbeError(target, botocore_error_cause(error, client)) from None


def client_error_cause(error: ClientError) -> str:
    """`Code: Message`, plus how many attempts botocore made when it retried."""
    details = error.response.get("Error", {})
    code = details.get("Code") or "UnknownError"
    message = one_line(details.get("Message") or "no message")
    retries = error.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
    suffix = f" (after {retries + 1} attempts)" if retries else ""
    return f"{code}: {message}{suffix}"


def botocore_error_cause(error: BotoCoreError, client: BaseClient | None = None) -> str:
    """One line for a botocore error that never reached (or never heard back from) the service."""
    from botocore.exceptions import (
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        ReadTimeoutError,
        SSLError,
    )

    kwargs = getattr(error, "kwargs", {})
    endpoint = kwargs.get("endpoint_url", "the AWS endpoint")
    config = client.meta.config if client is not None else None
    connect_timeout = getattr(config, "connect_timeout", None)
    read_timeout = getattr(config, "read_timeout", None)
    if isinstance(error, NoCredentialsError):
        return "no AWS credentials found (profile/SSO/env/role)"
    if isinstance(error, ConnectTimeoutError):
        timeout = f" within {connect_timeout:g} s" if connect_timeout is not None else ""
        return f"no answer from {endpoint}{timeout} (connect timeout)"
    if isinstance(error, ReadTimeoutError):
        timeout = f" within {read_timeout:g} s" if read_timeout is not None else ""
        return f"no answer from {endpoint}{timeout} (read timeout)"
    if isinstance(error, SSLError):
        return f"TLS handshake with {endpoint} failed: {one_line(str(kwargs.get('error', '')))}"
    if isinstance(error, EndpointConnectionError):
        underlying = str(kwargs.get("error", "")).lower()
        if "resolve" in underlying or "name or service not known" in underlying:
            return f"cannot connect to {endpoint} (cannot resolve host)"
        return f"cannot connect to {endpoint} (connection refused)"
    if isinstance(error, ConnectionClosedError):
        return f"{endpoint} closed the connection before answering (connection reset)"
    return f"{type(error).__name__}: {one_line(str(error))}"


def chunked(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """`items` in consecutive slices of at most `size` (an API's per-call limit)."""
    return [items[start : start + size] for start in range(0, len(items), size)]


class InlineExecutor(Executor):
    """An Executor that runs each call at once, in the caller's thread, in submission order."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # a Future carries any failure to whoever asks for it
            future.set_exception(error)
        return future


@contextmanager
def call_pool(max_workers: int) -> Iterator[Executor]:
    """Daemon threads for independent AWS calls; `max_workers=1` runs them inline, in order.

    The inline mode makes each client's call order deterministic (what botocore's Stubber needs).
    """
    if max_workers <= 1:
        yield InlineExecutor()
        return
    pool = DaemonExecutor(max_workers, "verify-aws")
    try:
        yield pool
    finally:
        pool.shutdown(cancel_futures=True)  # one failure settles the probe: skip what is queued
