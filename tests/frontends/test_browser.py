"""The browser reaches the configured hosts only, and favicon noise does not fail a route."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from verify.probes import browser

PAGE = (
    b"<html><head><title>t</title></head><body><p>hello</p><img src='/missing.png'></body></html>"
)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, body = (200, PAGE) if self.path == "/" else (404, b"no")
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def _serve(host: str) -> Iterator[str]:
    server = ThreadingHTTPServer((host, 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://{host}:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def allowed() -> Iterator[str]:
    yield from _serve("127.0.0.1")


@pytest.fixture(scope="module")
def other() -> Iterator[str]:
    yield from _serve("127.0.0.2")  # loopback, but not a configured surface


@pytest.fixture(scope="module")
def handle() -> Iterator[browser.BrowserHandle]:
    launched = browser.launch(["127.0.0.1"], [], 30)
    yield launched
    launched.close()


def _visit(handle: browser.BrowserHandle, url: str) -> browser.RouteRun:
    return browser.visit(
        handle, "t", "/", url, timeout_s=20, budget_ms=10_000, ignore_https_errors=False
    )


def test_a_host_that_is_not_configured_is_never_reached(
    handle: browser.BrowserHandle, other: str
) -> None:
    run = _visit(handle, other + "/")
    assert run.status is None and run.error is not None
    assert "ERR_PROXY_CONNECTION_FAILED" in run.error


def test_failed_subresource_counts_but_favicon_does_not(
    handle: browser.BrowserHandle, allowed: str
) -> None:
    run = _visit(handle, allowed + "/")
    assert run.status == 200
    assert run.failed_requests == (f"GET {allowed}/missing.png -> HTTP 404",)
    assert not any("favicon" in line for line in (*run.console_errors, *run.failed_requests))
    assert browser.problems(run, 10_000) == ["1 console error(s)", "1 failed request(s)"]
    assert set(run.artifacts) == {"screenshot", "trace"}
    assert run.ttfb_ms is not None and run.load_ms is not None
