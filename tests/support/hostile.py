"""A hostile endpoint on loopback: it echoes headers, inflates bombs, trickles and goes silent.

Every behaviour is bounded (it stops by itself after `LIMIT_S`) and the server is stopped by the
test that started it.
"""

from __future__ import annotations

import gzip
import socket
import struct
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler

LIMIT_S = 30.0  # no behaviour outlives this
TRICKLE_EVERY_S = 0.5


def bomb(inflated_mib: int = 1024) -> bytes:
    """`gzip, gzip`: a few KB on the wire, `inflated_mib` MiB once both layers are undone."""
    zeros = b"\0" * (1024 * 1024)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    # After a full flush the compressor forgets what came before, so one compressed MiB of
    # zeros repeats verbatim: the inner layer is built without ever deflating a GiB.
    block = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    body = block * inflated_mib + deflate.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(inflated_mib):
        crc = zlib.crc32(zeros, crc)
    size = (inflated_mib * len(zeros)) & 0xFFFFFFFF
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    inner = header + body + struct.pack("<II", crc, size)
    return gzip.compress(inner, compresslevel=9)


class Hostile(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    bomb_body = b""

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.do_GET()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        ends = time.monotonic() + LIMIT_S
        if path.endswith("/echo-401") or path == "/version-echo":
            echo = "".join(f"{k}: {v}\n" for k, v in self.headers.items()).encode()
            self._answer(401, b"Unauthorized. You sent:\n" + echo, "text/plain")
        elif path.endswith("/bomb"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", "gzip, gzip")
            self.send_header("Content-Length", str(len(self.bomb_body)))
            self.end_headers()
            self.wfile.write(self.bomb_body)
        elif path.endswith("/trickle-body"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            while time.monotonic() < ends and self._drip(b" "):
                pass
        elif path.endswith("/silent"):
            time.sleep(LIMIT_S)
        else:  # trickle the status line and headers, one byte at a time (any path, any AWS call)
            head = (
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + b"X-Pad: "
                + b"a" * 10_000
            )
            for byte in head:
                if time.monotonic() > ends or not self._drip(bytes([byte])):
                    break
        self.close_connection = True

    def _drip(self, chunk: bytes) -> bool:
        try:
            self.wfile.write(chunk)
            self.wfile.flush()
        except OSError:
            return False
        time.sleep(TRICKLE_EVERY_S)
        return True

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def hostile_server(with_bomb: bool = False) -> Iterator[str]:
    """`http://127.0.0.1:PORT` of a hostile server, stopped on exit."""
    from tests.support.servers import serving

    handler = type("HostileHandler", (Hostile,), {"bomb_body": bomb() if with_bomb else b""})
    with serving(handler) as url:
        yield url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
