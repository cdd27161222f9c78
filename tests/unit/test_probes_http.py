"""HTTP probe against real HTTP servers on loopback (ephemeral ports)."""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import struct
import threading
import time
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from verify.probes.errors import ProbeError, redact_url
from verify.probes.http import get

SECRET = "hunter2-s3cret"


class Handler(BaseHTTPRequestHandler):
    """A few behaviours of a real API, chosen by path."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/health":
            self._answer(200, "application/json", json.dumps({"status": "ok", "redis": "ok"}))
        elif path == "/unavailable":
            self._answer(503, "text/plain", "redis: connection refused")
        elif path == "/slow":
            time.sleep(1.0)
            self._answer(200, "text/plain", "late")
        elif path == "/a-bit-slow":
            time.sleep(0.1)
            self._answer(200, "text/plain", "fine")
        elif path == "/drip":  # every byte in time, the whole answer too late
            self.send_response(200)
            self.send_header("Content-Length", "20")
            self.end_headers()
            for _ in range(20):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.05)
        elif path == "/big":
            self._answer(200, "text/plain", "é" + "x" * 5000)
        elif path == "/lying-json":
            self._answer(200, "application/json", "<html>proxy error</html>")
        elif path == "/untyped-json":
            self._answer(200, "text/plain", '{"version": "1.4.2"}')
        elif path == "/reset":
            # SO_LINGER 0 makes close() send a TCP RST instead of a FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif path == "/hang-up":
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
        else:
            self._answer(404, "text/plain", "no such path")

    def _answer(self, status: int, content_type: str, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except OSError:  # the connection was cut on purpose (/reset, /hang-up, TLS probes)
            self.close_connection = True


def serve(context: ssl.SSLContext | None = None) -> tuple[ThreadingHTTPServer, threading.Thread]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    return server, thread


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server, thread = serve()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as http_client:
        yield http_client


@pytest.fixture
def refused_port() -> int:
    """A loopback port nobody listens on: bind it, then close it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def assert_no_secret(error: BaseException) -> None:
    rendered = "".join(traceback.format_exception(error))
    assert SECRET not in rendered


def test_json_answer(client: httpx.Client, base_url: str) -> None:
    observed = get(client, f"{base_url}/health", timeout_s=2)
    assert observed.status == 200
    assert observed.json == {"status": "ok", "redis": "ok"}
    assert observed.body == '{"status": "ok", "redis": "ok"}'
    assert observed.unreachable is None
    assert 0 < observed.latency_ms < 2000


def test_503_is_an_observation(client: httpx.Client, base_url: str) -> None:
    observed = get(client, f"{base_url}/unavailable", timeout_s=2)
    assert (observed.status, observed.body, observed.json) == (
        503,
        "redis: connection refused",
        None,
    )


def test_latency_is_measured(client: httpx.Client, base_url: str) -> None:
    assert get(client, f"{base_url}/a-bit-slow", timeout_s=2).latency_ms >= 100


def test_body_is_cut_to_2_kib(client: httpx.Client, base_url: str) -> None:
    observed = get(client, f"{base_url}/big", timeout_s=2)
    assert observed.body.startswith("éx") and len(observed.body.encode()) == 2048


def test_json_is_parsed_when_it_is_json(client: httpx.Client, base_url: str) -> None:
    assert get(client, f"{base_url}/lying-json", timeout_s=2).json is None
    assert get(client, f"{base_url}/untyped-json", timeout_s=2).json == {"version": "1.4.2"}


def test_slow_answer_is_a_timeout(client: httpx.Client, base_url: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ProbeError) as raised:
        get(client, f"{base_url}/slow", timeout_s=0.3)
    assert time.perf_counter() - started < 0.9
    assert raised.value.cause == "no complete answer within 0.3 s"
    assert raised.value.target == f"{base_url}/slow"


def test_slow_drip_cannot_outlive_the_deadline(client: httpx.Client, base_url: str) -> None:
    with pytest.raises(ProbeError, match=r"no complete answer within 0\.3 s"):
        get(client, f"{base_url}/drip", timeout_s=0.3)


def test_refused_port_is_unreachable(client: httpx.Client, refused_port: int) -> None:
    observed = get(client, f"http://127.0.0.1:{refused_port}/health", timeout_s=2)
    assert (observed.status, observed.unreachable, observed.json) == (
        None,
        "connection refused",
        None,
    )


def test_reset_is_unreachable(client: httpx.Client, base_url: str) -> None:
    observed = get(client, f"{base_url}/reset", timeout_s=2)
    assert (observed.status, observed.unreachable) == (None, "connection reset")


def test_hang_up_without_answer_is_unreachable(client: httpx.Client, base_url: str) -> None:
    observed = get(client, f"{base_url}/hang-up", timeout_s=2)
    assert (observed.status, observed.unreachable) == (None, "connection closed without a response")


def test_unresolvable_host_is_a_probe_error(
    client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The machine's resolver would ask a DNS server even for `.invalid`: answer NXDOMAIN here.
    resolve = socket.getaddrinfo

    def no_invalid_names(host: Any, *args: Any, **kwargs: Any) -> Any:
        if str(host).endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", no_invalid_names)
    url = f"https://deploy:{SECRET}@api.nonexistent.invalid/health"

    with pytest.raises(ProbeError) as raised:
        get(client, url, timeout_s=2)

    assert str(raised.value) == (
        "https://***@api.nonexistent.invalid/health: cannot resolve host api.nonexistent.invalid"
    )
    assert_no_secret(raised.value)


def test_userinfo_and_token_are_redacted_everywhere(
    client: httpx.Client, base_url: str, refused_port: int
) -> None:
    host = base_url.removeprefix("http://")
    answered = get(client, f"http://ops:{SECRET}@{host}/health?token={SECRET}&v=2", timeout_s=2)
    assert answered.status == 200
    assert answered.url == f"http://***@{host}/health?token=***&v=2"

    refused = get(client, f"http://ops:{SECRET}@127.0.0.1:{refused_port}/", timeout_s=2)
    assert SECRET not in refused.url and refused.unreachable == "connection refused"

    with pytest.raises(ProbeError) as raised:
        get(client, f"http://ops:{SECRET}@{host}/slow", timeout_s=0.2)
    assert SECRET not in str(raised.value)
    assert_no_secret(raised.value)


def test_tls_to_a_plain_http_port_is_a_probe_error(client: httpx.Client, base_url: str) -> None:
    with pytest.raises(ProbeError) as raised:
        get(client, base_url.replace("http://", "https://") + "/health", timeout_s=2)
    assert raised.value.cause.startswith("TLS handshake failed: ")
    assert "\n" not in raised.value.cause


def test_untrusted_certificate_is_a_probe_error(client: httpx.Client, tmp_path: Path) -> None:
    server, thread = serve(self_signed_context(tmp_path))
    try:
        with pytest.raises(ProbeError) as raised:
            get(client, f"https://127.0.0.1:{server.server_address[1]}/health", timeout_s=2)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert raised.value.cause == "TLS certificate rejected: self-signed certificate"


def self_signed_context(directory: Path) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for 127.0.0.1."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://api.example.com/health", "https://api.example.com/health"),
        ("https://user:pw@api.example.com/health", "https://***@api.example.com/health"),
        ("https://tokenonly@api.example.com:8443/", "https://***@api.example.com:8443/"),
        ("http://u:p@[::1]:8080/x", "http://***@[::1]:8080/x"),
        ("https://h/x?X-Amz-Signature=abc&page=2", "https://h/x?X-Amz-Signature=***&page=2"),
        ("https://h/x?api_key=abc", "https://h/x?api_key=***"),
        ("https://h/x?page=2&sort=asc", "https://h/x?page=2&sort=asc"),
        ("https://u:p@h:notaport/x", "https://***@h:notaport/x"),
        ("u:p@h:notaport", "***@h:notaport"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
