"""HTTP probe: one GET, timed, never raising for an answer the server gave."""

from __future__ import annotations

import json
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from verify.probes.errors import ProbeError, one_line, redact_url

BODY_EXCERPT_BYTES = 2048
# A health or version endpoint answers in bytes; cap what we read so a huge page cannot stall a run.
MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class HttpObservation:
    """What one GET saw; `unreachable` is set (`status` None) when the server refused or reset."""

    url: str  # redacted: no userinfo, no credential-like query values
    status: int | None
    latency_ms: float
    body: str  # first 2 KiB, for messages
    json: Any | None  # parsed body when it is JSON, else None
    unreachable: str | None = None  # e.g. "connection refused"


def get(
    client: httpx.Client, url: str, timeout_s: float, headers: dict[str, str] | None = None
) -> HttpObservation:
    """GET `url`: a refused/reset connection is observed; DNS failure or timeout is a ProbeError."""
    shown_url = redact_url(url)
    started = time.perf_counter()
    timed_out = ProbeError(shown_url, f"no answer within {timeout_s:g} s")
    # `from None` everywhere below: httpx exceptions carry the request, whose URL may hold a secret.
    try:
        with client.stream(
            "GET", url, headers=headers, timeout=httpx.Timeout(timeout_s)
        ) as response:
            content = _read_body(response, deadline=started + timeout_s)
            if content is None:
                raise timed_out from None
    except httpx.TimeoutException:
        raise timed_out from None
    except httpx.TransportError as error:
        latency_ms = (time.perf_counter() - started) * 1000
        unreachable = _unreachable_reason(error)
        if unreachable is not None:
            return HttpObservation(shown_url, None, latency_ms, "", None, unreachable)
        raise ProbeError(shown_url, _failure_cause(error, url)) from None
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        raise ProbeError(shown_url, f"{type(error).__name__}: {one_line(str(error))}") from None
    latency_ms = (time.perf_counter() - started) * 1000
    encoding = response.charset_encoding or "utf-8"
    return HttpObservation(
        url=shown_url,
        status=response.status_code,
        latency_ms=latency_ms,
        body=content[:BODY_EXCERPT_BYTES].decode(encoding, errors="replace"),
        json=_parse_json(content, response.headers.get("content-type", ""), encoding),
    )


def _read_body(response: httpx.Response, deadline: float) -> bytes | None:
    """Up to MAX_BODY_BYTES of the body, or None when the whole answer overruns `deadline`."""
    # httpx bounds each read, not the whole answer: check the deadline between chunks.
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        if time.perf_counter() > deadline:
            return None
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_BODY_BYTES:
            break
    return b"".join(chunks)[:MAX_BODY_BYTES]


def _parse_json(content: bytes, content_type: str, encoding: str) -> Any | None:
    """The parsed body when it is declared or looks like JSON, else None."""
    text = content.decode(encoding, errors="replace").strip()
    if "json" not in content_type.lower() and not text.startswith(("{", "[")):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _causes(error: BaseException) -> Iterator[BaseException]:
    """`error` and the exceptions it was raised from (httpx wraps httpcore wraps the OSError)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _unreachable_reason(error: httpx.TransportError) -> str | None:
    """Why the server end said no ("connection refused", "connection reset", ...), else None."""
    for cause in _causes(error):
        if isinstance(cause, ssl.SSLError):
            return None  # a TLS failure is a configuration error, not an unreachable server
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ConnectionResetError | BrokenPipeError):
            return "connection reset"
    if isinstance(error, httpx.RemoteProtocolError) and "without sending" in str(error):
        return "connection closed without a response"
    return None


def _failure_cause(error: httpx.TransportError, url: str) -> str:
    """One line saying why the request could not be made (DNS, TLS, protocol)."""
    for cause in _causes(error):
        if isinstance(cause, socket.gaierror):
            return f"cannot resolve host {_host(url)}"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate rejected: {cause.verify_message or cause.reason}"
        if isinstance(cause, ssl.SSLError):
            return f"TLS handshake failed: {cause.reason or one_line(str(cause))}"
    if isinstance(error, httpx.UnsupportedProtocol):
        return "unsupported URL scheme (expected http:// or https://)"
    return f"{type(error).__name__}: {one_line(str(error)) or 'no detail'}"


def _host(url: str) -> str:
    """The host part of `url` (never its userinfo)."""
    try:
        return httpx.URL(url).host or "?"
    except httpx.InvalidURL:
        return "?"
