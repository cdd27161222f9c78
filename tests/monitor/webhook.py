"""A real webhook receiver on a free loopback port that records every POSTed JSON body."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any


@dataclass
class Receiver:
    url: str
    bodies: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200  # what it answers; 500 to refuse deliveries

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [b for b in self.bodies if b.get("event") == kind]


@contextmanager
def webhook_receiver(path: str = "/hooks/T0KEN-s3cr3t-path-4f9a") -> Iterator[Receiver]:
    """`receiver.url` takes POSTs at `path` (the path is the secret, as with Slack hooks)."""
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            if self.path == path and receiver.status < 300:
                receiver.bodies.append(json.loads(body))
            self.send_response(receiver.status if self.path == path else 404)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    from tests.support.servers import serving

    with serving(Handler) as base:
        receiver = Receiver(f"{base}{path}")
        yield receiver
