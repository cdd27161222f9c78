"""What the sandbox's two HTTP servers share: loopback only, keep-alive, no Nagle stalls."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LoopbackServer(ThreadingHTTPServer):
    """A threaded server on 127.0.0.1 (`port` 0: a free port)."""

    daemon_threads = True


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive; headers and body go out as one write."""

    protocol_version = "HTTP/1.1"
    # Without it, keep-alive clients wait ~40 ms per request on delayed ACKs (Nagle).
    disable_nagle_algorithm = True

    def send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status: int, document: dict[str, Any]) -> None:
        self.send(status, {"Content-Type": "application/json"}, json.dumps(document).encode())
