"""The overlay: the sandbox's only AWS door. Checks the caller, injects faults, fills what moto
lacks, and serves the `/_sandbox/` control API.

Every request must carry the sandbox token (`x-verify-sandbox-token`, kept in the 0600 state file)
and a loopback Host header: another user on the machine, or a web page reaching loopback by DNS
rebinding, can neither read the seeded secrets nor switch faults. moto's own `/moto-api/` is not
served at all.
"""

from __future__ import annotations

import hmac
import json
import sys
import time
import traceback
from typing import TYPE_CHECKING, Any

from verify.sandbox import awserrors, fill_ecs, fill_elb
from verify.sandbox.awsext import OverlayRequest
from verify.sandbox.httpbase import Handler, LoopbackServer

if TYPE_CHECKING:
    from verify.sandbox.awsext import Fill, Rewrite
    from verify.sandbox.motoapp import MotoApp
    from verify.sandbox.world import World

TOKEN_HEADER = "x-verify-sandbox-token"
AWS_WIDE_FAULTS = ("aws-access-denied", "aws-throttled")
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}
MAX_REQUEST_BYTES = 16 * 1024 * 1024


def _json_fill(fill: Any) -> Fill:
    def apply(world: World, request: OverlayRequest, payload: bytes) -> bytes:
        return json.dumps(fill(world, request.json(), json.loads(payload))).encode()

    return apply


def _follow_update(world: World, request: OverlayRequest, payload: bytes) -> bytes:
    """A client's UpdateService (a rollback hook) moves the service's tasks too."""
    world.deploys.on_update_service(request)
    return payload


def _follow_pointer(world: World, request: OverlayRequest, payload: bytes) -> bytes:
    """A client's write of an asset-set pointer (the S3 rollback hook) moves the edge too."""
    world.deploys.on_put_object(request)
    return payload


BUILTIN_FILLS: dict[tuple[str, str], Fill] = {
    ("ecs", "UpdateService"): _follow_update,
    ("s3", ""): _follow_pointer,  # S3 is a REST protocol: no operation name in the request
    ("ecs", "ListTasks"): _json_fill(fill_ecs.list_tasks),
    ("ecs", "DescribeTasks"): _json_fill(fill_ecs.describe_tasks),
    ("ecs", "DescribeServices"): _json_fill(fill_ecs.describe_services),
    ("elasticloadbalancing", "DescribeTargetHealth"): lambda w, r, p: (
        fill_elb.describe_target_health(w, p)
    ),
}
BUILTIN_REWRITES: dict[tuple[str, str], Rewrite] = {
    ("ecs", "ListTasks"): lambda w, r: json.dumps(fill_ecs.list_tasks_request(r.json())).encode(),
    ("ecs", "DescribeTaskDefinition"): lambda w, r: json.dumps(
        fill_ecs.describe_task_definition_request(w, r.json())
    ).encode(),
}


class OverlayServer(LoopbackServer):
    """Loopback server on a free port, in front of moto (called in process)."""

    def __init__(self, world: World, moto: MotoApp, token: str) -> None:
        super().__init__(("127.0.0.1", 0), OverlayHandler)
        self.world = world
        self.moto = moto
        self.token = token

    def fill_for(self, key: tuple[str, str]) -> Fill | None:
        for extension in self.world.extensions.values():
            if key in extension.fills:
                return extension.fills[key]
        return BUILTIN_FILLS.get(key)

    def rewrite_for(self, key: tuple[str, str]) -> Rewrite | None:
        for extension in self.world.extensions.values():
            if key in extension.rewrites:
                return extension.rewrites[key]
        return BUILTIN_REWRITES.get(key)


class OverlayHandler(Handler):
    """Token and Host checks, latency, AWS-wide faults, moto with fills, and /_sandbox/."""

    server: OverlayServer

    def do_GET(self) -> None:
        """Handle any method the same way."""
        self._handle()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            self.send_json(413, {"error": "request too large"})
            return
        body = self.rfile.read(length)
        refusal = self._refusal()
        if refusal is not None:
            self._refuse(body, refusal)
            return
        if self.path.startswith("/_sandbox/"):
            self._control(body)
            return
        if self.path.startswith("/moto-api"):
            self.send_json(404, {"error": "not served by the sandbox"})
            return
        world = self.server.world
        if world.latency_ms:
            time.sleep(world.latency_ms / 1000)
        call = awserrors.identify(self.path, dict(self.headers.items()), body)
        fault = next((f for f in AWS_WIDE_FAULTS if f in world.active), None)
        if fault is not None:
            self.send(*awserrors.error(call, fault))
            return
        self._forward(
            OverlayRequest(self.command, self.path, dict(self.headers.items()), body, call)
        )

    def _refusal(self) -> str | None:
        """Why this caller is refused, or None."""
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]")
        if host not in ("127.0.0.1", "localhost", "::1"):
            return "Host header is not a loopback name"
        token = self.headers.get(TOKEN_HEADER) or ""
        if not hmac.compare_digest(token.encode(), self.server.token.encode()):
            return "missing or wrong sandbox token"
        return None

    def _refuse(self, body: bytes, why: str) -> None:
        if self.path.startswith(("/_sandbox/", "/moto-api")):
            self.send_json(403, {"error": why})
            return
        call = awserrors.identify(self.path, dict(self.headers.items()), body)
        self.send(*awserrors.error(call, "aws-access-denied", detail=f"verify sandbox: {why}"))

    def _forward(self, request: OverlayRequest) -> None:
        key = (request.call.service, request.call.operation)
        body = request.body
        rewrite = self.server.rewrite_for(key)
        if rewrite is not None:
            body = rewrite(self.server.world, request)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        headers.pop(TOKEN_HEADER, None)
        status, out_headers, payload = self.server.moto.call(
            request.method, request.path, headers, body
        )
        kept = {k: v for k, v in out_headers if k.lower() not in _HOP_HEADERS}
        fill = self.server.fill_for(key)
        if status == 200 and fill is not None:
            try:
                payload = fill(self.server.world, request, payload)
            except Exception:  # a fill bug must not take the AWS endpoint down: log, pass moto's
                traceback.print_exc(file=sys.stderr)
        self.send(status, kept, payload)

    def _control(self, body: bytes) -> None:
        world = self.server.world
        try:
            request = json.loads(body or b"{}")
            if self.path == "/_sandbox/faults" and self.command == "POST":
                owner = str(request.get("owner", "aws"))
                if owner == "aws":
                    world.set_faults(request.get("active", []), request.get("secret_values", {}))
                else:
                    world.set_owner_faults(owner, request.get("active", []))
            elif self.path == "/_sandbox/extension" and self.command == "POST":
                from verify.sandbox import awsext

                extension = awsext.load(str(request["reference"]))
                if extension.name not in world.extensions:
                    world.add_extension(extension, dict(request.get("config", {})))
            elif self.path == "/_sandbox/secrets" and self.command == "POST":
                world.put_secrets({str(k): str(v) for k, v in request.get("values", {}).items()})
            elif self.path == "/_sandbox/latency" and self.command == "POST":
                world.latency_ms = max(0, int(request["latency_ms"]))
            elif self.path.startswith("/_sandbox/deploy"):
                self.send_json(200, _deploy_control(world, self.path, request))
                return
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
        self.send_json(
            200,
            {
                "faults": sorted(world.active),
                "by_owner": world.faults_by_owner(),
                "latency_ms": world.latency_ms,
            },
        )

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: one line per AWS call would swamp the log during benchmarks."""


def _deploy_control(world: World, path: str, request: dict[str, Any]) -> dict[str, Any]:
    """`deploy` (release, bad, converge_after), `deploy-reset`, `deploy-status`."""
    if path == "/_sandbox/deploy":
        converge_after = float(request.get("converge_after", 0))
        if not 0 <= converge_after <= 3600:
            raise ValueError("converge_after must be 0 to 3600 seconds")
        answer = world.deploys.deploy(
            str(request["release"]), bool(request.get("bad")), converge_after
        )
    elif path == "/_sandbox/deploy-reset":
        answer = world.deploys.reset()
    elif path == "/_sandbox/deploy-status":
        answer = {}
    else:
        raise ValueError(f"no control endpoint {path}")
    return {**answer, "state": world.deploys.state()}
