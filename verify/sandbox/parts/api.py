"""Part `api`: the demo API, a small real HTTP service with /health and /version."""

from __future__ import annotations

import json
from typing import ClassVar

from verify.sandbox import api_mode, procs
from verify.sandbox.part import Fault, PartContext, PartState
from verify.sandbox.readyfile import API_READY as READY

START_TIMEOUT_S = 15.0
FAULTS = (
    Fault("api-5xx", 'demo API /health answers 503 {"status": "error"}', "api.health"),
    Fault("api-slow", "demo API /health answers after 2.0 s", "api.health"),
    Fault(
        "api-down",
        "demo API process killed (connection refused)",
        "api.health",
        also=("api.version",),
    ),
    Fault("api-wrong-version", "/version and /health report the previous release", "api.version"),
    Fault(
        "api-401-echo",
        "/version answers 401 with a page echoing the request's headers (token included)",
        "api.version",
    ),
)
MODE_FAULTS = frozenset(f.name for f in FAULTS) - {"api-down"}


class ApiPart:
    """The API the ALB fronts; its /health reports the parts it depends on."""

    name: ClassVar[str] = "api"
    after: ClassVar[tuple[str, ...]] = ("redis", "postgres")
    serves: ClassVar[tuple[str, ...]] = ("api",)
    faults: ClassVar[tuple[Fault, ...]] = FAULTS
    aws_extension: ClassVar[str | None] = None

    def start(self, ctx: PartContext, port: int = 0) -> PartState:
        api_mode.write(ctx.dir, api_mode.ApiMode(ctx.latency_ms, []))
        pid, port = self._spawn(ctx, port)
        ctx.progress(f"demo API ready on 127.0.0.1:{port}")
        return PartState(
            endpoints={"api": f"http://127.0.0.1:{port}"}, pids={"api": pid}, data={"port": port}
        )

    def _spawn(self, ctx: PartContext, port: int) -> tuple[int, int]:
        (ctx.dir / READY).unlink(missing_ok=True)
        log = ctx.dir / "api.log"
        # What /health checks (Redis, PostgreSQL, ...) comes on stdin: it holds secrets.
        dependencies = {name: ctx.parts[name].data.get("health") for name in ctx.parts}
        pid = procs.spawn(
            "verify.sandbox.demo_api",
            [
                "--dir",
                str(ctx.dir),
                "--port",
                str(port),
                "--release",
                ctx.release,
                "--previous-release",
                ctx.previous_release,
            ],
            log,
            stdin_data=json.dumps(
                {"dependencies": {k: v for k, v in dependencies.items() if v}}
            ).encode(),
        )
        try:
            ready = procs.wait_ready(ctx.dir / READY, pid, START_TIMEOUT_S, log)
        except BaseException:
            procs.stop(pid)
            raise
        return pid, int(ready["port"])

    def stop(self, state: PartState) -> None:
        for pid in state.pids.values():
            procs.stop(pid)

    def health(self, ctx: PartContext, state: PartState) -> str | None:
        if "api" not in state.pids:
            return "demo API stopped (api-down)"
        return None if procs.pid_alive(state.pids["api"]) else "demo API process died"

    def apply(self, ctx: PartContext, state: PartState, active: frozenset[str]) -> None:
        api_mode.write(ctx.dir, api_mode.ApiMode(ctx.latency_ms, sorted(active & MODE_FAULTS)))
        if "api-down" in active and "api" in state.pids:
            procs.stop(state.pids.pop("api"))
        elif "api-down" not in active and "api" not in state.pids:
            state.pids["api"], _ = self._spawn(ctx, int(state.data["port"]))
        state.faults = sorted(active)

    def active(self, ctx: PartContext, state: PartState) -> frozenset[str]:
        mode = set(api_mode.read(ctx.dir).faults) & MODE_FAULTS
        alive = "api" in state.pids and procs.pid_alive(state.pids["api"])
        return frozenset(mode | (set() if alive else {"api-down"}))

    def set_latency(self, ctx: PartContext, state: PartState, latency_ms: int) -> None:
        mode = api_mode.read(ctx.dir)
        api_mode.write(ctx.dir, api_mode.ApiMode(latency_ms, mode.faults))
