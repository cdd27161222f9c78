"""The demo API: a small real HTTP service answering /health and /version on loopback."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from verify.sandbox import api_mode, readyfile
from verify.sandbox.deploys import read_api_release
from verify.sandbox.httpbase import Handler, LoopbackServer

SLOW_S = 2.0


class ApiServer(LoopbackServer):
    """Holds what handlers need: the sandbox dir, the releases, the dependencies /health checks."""

    def __init__(
        self,
        port: int,
        dir: Path,
        release: str,
        previous_release: str,
        dependencies: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(("127.0.0.1", port), ApiHandler)
        self.dir = dir
        self.release = release
        self.previous_release = previous_release
        self.dependencies = dependencies or {}


class ApiHandler(Handler):
    """GET /health and /version, shaped by the mode file."""

    server: ApiServer

    def do_GET(self) -> None:
        """Answer /health or /version after the configured latency."""
        mode = api_mode.read(self.server.dir)
        if mode.latency_ms:
            time.sleep(mode.latency_ms / 1000)
        deployed, bad = read_api_release(self.server.dir)  # what app-api's ECS tasks run
        release = (
            self.server.previous_release
            if "api-wrong-version" in mode.faults
            else deployed or self.server.release
        )
        path = self.path.split("?", 1)[0]
        if path == "/health":
            if "api-slow" in mode.faults:
                time.sleep(SLOW_S)
            checks = dependency_checks(self.server.dependencies)
            if bad:  # a bad deploy: the new release cannot serve
                self._send(500, {"status": "error", "release": release, "checks": checks})
            elif "api-5xx" in mode.faults:
                self._send(503, {"status": "error", "checks": checks})
            elif any(value != "ok" for value in checks.values()):
                self._send(503, {"status": "degraded", "release": release, "checks": checks})
            else:
                self._send(200, {"status": "ok", "release": release, "checks": checks})
        elif path == "/version" and "api-401-echo" in mode.faults:
            # A hostile (or merely careless) endpoint: it shows the caller what it sent.
            echo = "".join(f"{name}: {value}\n" for name, value in self.headers.items())
            self.send(401, {"Content-Type": "text/plain"}, f"Unauthorized.\n{echo}".encode())
        elif path == "/version":
            self._send(200, {"release": release})
        else:
            self._send(404, {"error": "not found"})

    def _send(self, status: int, document: dict[str, Any]) -> None:
        self.send(
            status,
            {"Content-Type": "application/json", "Cache-Control": "no-store"},
            json.dumps(document).encode(),
        )

    def log_message(self, format: str, *args: Any) -> None:
        """Log requests to the process log (stderr), not to the terminal of whoever runs it."""
        sys.stderr.write(f"{self.log_date_time_string()} {format % args}\n")


def dependency_checks(dependencies: dict[str, dict[str, Any]]) -> dict[str, str]:
    """What /health reports of each dependency the API really talks to.

    Each part the API depends on records `health = {"check": "module:function", ...}`; the
    function takes that dict and answers "ok" or raises.
    """
    import importlib

    found = {}
    for name, config in dependencies.items():
        module_name, _, function = str(config.get("check", "")).partition(":")
        try:
            check = getattr(importlib.import_module(module_name), function)
            found[name] = str(check(config))
        except Exception as exc:  # the dependency is down or misconfigured: that is the answer
            found[name] = f"{type(exc).__name__}: {exc}"[:200]
    return found


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM; announce the bound port in the ready file."""
    parser = argparse.ArgumentParser(prog="python -m verify.sandbox.demo_api")
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0, help="0 = a free port")
    parser.add_argument("--release", required=True)
    parser.add_argument("--previous-release", required=True)
    args = parser.parse_args(argv)
    # What /health checks comes on stdin: it holds secrets (a Redis password, a database URL).
    config = json.loads(sys.stdin.read() or "{}") if not sys.stdin.isatty() else {}
    server = ApiServer(
        args.port, args.dir, args.release, args.previous_release, config.get("dependencies", {})
    )
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))  # stateless: nothing to clean up
    # Warm up before announcing: the first /health must not pay imports and TLS handshakes.
    dependency_checks(server.dependencies)
    readyfile.write(
        args.dir / readyfile.API_READY, {"pid": os.getpid(), "port": server.server_address[1]}
    )
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
