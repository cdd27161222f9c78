"""The overlay: the AWS endpoint everyone uses; forwards to moto and fills what moto lacks."""

from __future__ import annotations

import http.client
import json
import sys
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from verify.sandbox import awserrors, fill_ecs, fill_elb
from verify.sandbox.httpbase import Handler, LoopbackServer

if TYPE_CHECKING:
    from verify.sandbox.world import World

AWS_WIDE_FAULTS = ("aws-access-denied", "aws-throttled")
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}

JsonFill = Callable[["World", dict[str, Any], dict[str, Any]], dict[str, Any]]
_JSON_FILLS: dict[tuple[str, str], JsonFill] = {
    ("ecs", "ListTasks"): fill_ecs.list_tasks,
    ("ecs", "DescribeTasks"): fill_ecs.describe_tasks,
    ("ecs", "DescribeServices"): fill_ecs.describe_services,
}
_JSON_REQUEST_REWRITES = {("ecs", "ListTasks"): fill_ecs.list_tasks_request}


class OverlayServer(LoopbackServer):
    """Loopback server on a free port, in front of moto."""

    def __init__(self, world: World, moto_port: int) -> None:
        super().__init__(("127.0.0.1", 0), OverlayHandler)
        self.world = world
        self.moto_port = moto_port


class OverlayHandler(Handler):
    """Latency, AWS-wide faults, moto forwarding with fills, and the /_sandbox/ control API."""

    server: OverlayServer

    def do_GET(self) -> None:
        """Handle any method the same way."""
        self._handle()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/_sandbox/"):
            self._control(body)
            return
        world = self.server.world
        if self.path.startswith("/moto-api/"):
            self._forward(body, None)
            return
        if world.latency_ms:
            time.sleep(world.latency_ms / 1000)
        call = awserrors.identify(self.path, dict(self.headers.items()), body)
        fault = next((f for f in AWS_WIDE_FAULTS if f in world.active), None)
        if fault is not None:
            self.send(*awserrors.error(call, fault))
            return
        self._forward(body, call)

    def _forward(self, body: bytes, call: awserrors.Call | None) -> None:
        key = (call.service, call.operation) if call else ("", "")
        request_json: dict[str, Any] = {}
        if key in _JSON_FILLS:
            request_json = json.loads(body or b"{}")
            rewrite = _JSON_REQUEST_REWRITES.get(key)
            if rewrite is not None:
                body = json.dumps(rewrite(request_json)).encode()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
        headers["Content-Length"] = str(len(body))
        conn = http.client.HTTPConnection("127.0.0.1", self.server.moto_port, timeout=60)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            status, payload = response.status, response.read()
            out_headers = {k: v for k, v in response.getheaders() if k.lower() not in _HOP_HEADERS}
        finally:
            conn.close()
        if status == 200:
            payload = self._fill(key, request_json, payload)
        self.send(status, out_headers, payload)

    def _fill(self, key: tuple[str, str], request_json: dict[str, Any], payload: bytes) -> bytes:
        world = self.server.world
        try:
            if key in _JSON_FILLS:
                filled = _JSON_FILLS[key](world, request_json, json.loads(payload))
                return json.dumps(filled).encode()
            if key == ("elasticloadbalancing", "DescribeTargetHealth"):
                return fill_elb.describe_target_health(world, payload)
        except Exception:  # a fill bug must not take the AWS endpoint down: log, pass moto's answer
            traceback.print_exc(file=sys.stderr)
        return payload

    def _control(self, body: bytes) -> None:
        world = self.server.world
        try:
            request = json.loads(body or b"{}")
            if self.path == "/_sandbox/faults" and self.command == "POST":
                world.set_faults(request.get("active", []), request.get("secret_values", {}))
            elif self.path == "/_sandbox/latency" and self.command == "POST":
                world.latency_ms = max(0, int(request["latency_ms"]))
            elif self.path != "/_sandbox/status":
                self.send_json(404, {"error": f"no control endpoint {self.command} {self.path}"})
                return
        except (ValueError, KeyError, TypeError) as exc:
            self.send_json(400, {"error": str(exc)})
            return
        except Exception as exc:  # report it to break/heal instead of dropping the connection
            traceback.print_exc(file=sys.stderr)
            self.send_json(500, {"error": f"{type(exc).__name__}: {exc}"})
            return
        self.send_json(200, {"faults": sorted(world.active), "latency_ms": world.latency_ms})

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: one line per AWS call would swamp the log during benchmarks."""
