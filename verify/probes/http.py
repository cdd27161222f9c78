"""HTTP probe: one GET, timed and bounded, never raising for an answer the server gave.

Treat the server as hostile: the body is read raw (asking for `identity` encoding) up to a cap
counted on the wire, inflated here under the same cap (a gzip bomb is an error, not 4 GB of
memory), the whole answer must arrive before the deadline (a server trickling bytes cannot stall
the run), and what is kept of the body is masked and cut short.
"""

from __future__ import annotations

import json
import socket
import ssl
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from verify.probes.errors import ProbeError, redact_url
from verify.redact import REDACT
from verify.text import one_line

if TYPE_CHECKING:
    from verify.secrets import Secret

BODY_EXCERPT_BYTES = 2048
# A health or version endpoint answers in bytes; cap what we read so a huge page cannot stall a run.
MAX_BODY_BYTES = 1024 * 1024
REQUEST_ID_HEADERS = ("x-request-id", "x-amzn-requestid", "x-amzn-trace-id", "x-amz-cf-id")
_DECODERS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


@dataclass(frozen=True)
class HttpObservation:
    """What one GET saw; `unreachable` is set (`status` None) when the server refused or reset."""

    url: str  # redacted: no userinfo, no credential-like query values
    status: int | None
    latency_ms: float
    body: str  # first 2 KiB, masked, for messages and evidence
    json: Any | None  # parsed body when it is JSON, else None
    unreachable: str | None = None  # e.g. "connection refused"
    request_id: str | None = None
    truncated: bool = False  # the body was longer than MAX_BODY_BYTES on the wire

    def evidence(self) -> list[str]:
        """What a person opens first: status, request id, the first bytes of the body."""
        if self.unreachable:
            return [f"GET {self.url}: {self.unreachable}"]
        lines = [f"GET {self.url} -> HTTP {self.status} in {self.latency_ms:.0f} ms"]
        if self.request_id:
            lines.append(f"request id: {self.request_id}")
        if self.body:
            lines.append(f"body: {one_line(self.body, 200)}")
        return lines


def get(
    client: httpx.Client,
    url: str,
    timeout_s: float,
    token: Secret | None = None,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> HttpObservation:
    """GET `url` within `timeout_s` in all: a refused/reset connection is observed; DNS failure,
    TLS failure, a timeout or a body that inflates past the cap is a ProbeError.

    `token`, when given, is sent as `Authorization: Bearer ...`, built at the last moment.
    """
    answer = fetch(client, url, timeout_s, token, max_body_bytes=max_body_bytes)
    if answer.unreachable is not None:
        return HttpObservation(answer.url, None, answer.latency_ms, "", None, answer.unreachable)
    encoding = answer.encoding or "utf-8"
    return HttpObservation(
        url=answer.url,
        status=answer.status,
        latency_ms=answer.latency_ms,
        body=REDACT(answer.content[:BODY_EXCERPT_BYTES].decode(encoding, errors="replace")),
        json=_parse_json(answer.content, answer.headers.get("content-type", ""), encoding),
        request_id=_request_id(answer.headers),
        truncated=answer.truncated,
    )


def _read_raw(response: httpx.Response, deadline: float, limit: int) -> tuple[bytes | None, bool]:
    """Up to `limit` bytes as sent (still encoded), or None when the answer overruns `deadline`."""
    # httpx bounds each read, not the whole answer: check the deadline between chunks.
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_raw():
        if time.perf_counter() > deadline:
            return None, False
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], True
    if time.perf_counter() > deadline:
        return None, False
    return b"".join(chunks), False


def _inflate(raw: bytes, content_encoding: str, shown_url: str, limit: int) -> bytes:
    """Undo `Content-Encoding` (applied left to right) without ever holding more than `limit`."""
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    content = raw
    for coding in reversed(codings):
        if coding == "identity":
            continue
        if coding not in _DECODERS:
            raise ProbeError(shown_url, f"unsupported Content-Encoding {one_line(coding, 40)!r}")
        decoder = zlib.decompressobj(_DECODERS[coding])
        try:
            inflated = decoder.decompress(content, limit)
        except zlib.error:
            raise ProbeError(shown_url, f"body is not valid {coding}") from None
        if decoder.unconsumed_tail or (len(inflated) >= limit and not decoder.eof):
            raise ProbeError(
                shown_url,
                f"body inflates past {limit // 1024} KiB (Content-Encoding "
                f"{one_line(content_encoding, 60)}): refused as a decompression bomb",
            )
        content = inflated
    return content


def _request_id(headers: dict[str, str]) -> str | None:
    for name in REQUEST_ID_HEADERS:
        if name in headers:
            return one_line(REDACT(headers[name]), 120)
    return None


def _parse_json(content: bytes, content_type: str, encoding: str) -> Any | None:
    """The parsed body when it is declared or looks like JSON, else None."""
    text = content.decode(encoding, errors="replace").strip()
    if "json" not in content_type.lower() and not text.startswith(("{", "[")):
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
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
    # Protocol errors quote what the peer (or we) sent: keep the class, mask the text.
    return f"{type(error).__name__}: {one_line(REDACT(str(error)), 120) or 'no detail'}"


def _host(url: str) -> str:
    """The host part of `url` (never its userinfo)."""
    try:
        return httpx.URL(url).host or "?"
    except httpx.InvalidURL:
        return "?"


@dataclass(frozen=True)
class Fetched:
    """One GET's status, headers and body (inflated, at most the cap), for probes that parse it.

    `unreachable` is set (`status` None) when the server refused or reset the connection.
    """

    url: str  # redacted
    status: int | None
    headers: dict[str, str]  # lower-case names; a repeated header's values joined by ", "
    content: bytes
    latency_ms: float
    truncated: bool = False
    unreachable: str | None = None
    encoding: str | None = None  # the charset the server declared

    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


def fetch(
    client: httpx.Client,
    url: str,
    timeout_s: float,
    token: Secret | None = None,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> Fetched:
    """GET `url` as a hostile server may answer it: identity encoding asked for, a cap counted on
    the wire, one deadline for the whole answer; headers and the body up to the cap."""
    shown_url = redact_url(url)
    headers = {"accept-encoding": "identity"}
    if token is not None:
        headers["authorization"] = token.header_value("Bearer ")
    started = time.perf_counter()
    deadline = started + timeout_s
    timed_out = ProbeError(shown_url, f"no complete answer within {timeout_s:g} s")
    # `from None` everywhere below: httpx exceptions carry the request, whose URL may hold a secret.
    try:
        with client.stream(
            "GET", url, headers=headers, timeout=httpx.Timeout(timeout_s)
        ) as response:
            raw, truncated = _read_raw(response, deadline, max_body_bytes)
            if raw is None:
                raise timed_out from None
    except httpx.TimeoutException:
        raise timed_out from None
    except httpx.TransportError as error:
        latency_ms = (time.perf_counter() - started) * 1000
        unreachable = _unreachable_reason(error)
        if unreachable is not None:
            return Fetched(shown_url, None, {}, b"", latency_ms, unreachable=unreachable)
        raise ProbeError(shown_url, _failure_cause(error, url)) from None
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        raise ProbeError(
            shown_url, f"{type(error).__name__}: {one_line(REDACT(str(error)))}"
        ) from None
    latency_ms = (time.perf_counter() - started) * 1000
    encoding = response.headers.get("content-encoding", "")
    # A capped body cannot be inflated whole: keep it as sent (callers only read the start).
    content = raw if truncated else _inflate(raw, encoding, shown_url, max_body_bytes)
    seen: dict[str, str] = {}
    for name, value in response.headers.multi_items():
        key = name.lower()
        seen[key] = f"{seen[key]}, {value}" if key in seen else value
    return Fetched(
        shown_url,
        response.status_code,
        seen,
        content,
        latency_ms,
        truncated,
        encoding=response.charset_encoding,
    )
