"""Part `aws`: moto in process behind the overlay, seeded like the platform plan."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, ClassVar

from verify.sandbox import control, procs, spec
from verify.sandbox.errors import SandboxError
from verify.sandbox.part import Fault, PartContext, PartState

if TYPE_CHECKING:
    from pathlib import Path

from verify.sandbox.readyfile import AWS_READY as READY

START_TIMEOUT_S = 60.0
FAULTS = (
    Fault(
        "target-unhealthy",
        "one ALB target unhealthy (Target.FailedHealthChecks)",
        "alb.targets_healthy",
    ),
    Fault("target-single-az", "the eu-west-1b ALB target deregistered", "alb.targets_healthy"),
    Fault(
        "ecs-under-replicated",
        "one app-api task stopped by the scheduler: running 1 < 2",
        "ecs.service_stable[app-api]",
        also=("ecs.tasks_healthy[app-api]",),
    ),
    Fault(
        "ecs-rollout-failed",
        "app-api deployment on a new revision FAILED (circuit breaker)",
        "ecs.service_stable[app-api]",
    ),
    Fault(
        "ecs-crash-loop",
        "3 app-api tasks exited with code 1 in the last minutes",
        "ecs.no_crash_loop[app-api]",
    ),
    Fault(
        "ecs-task-failed-to-start",
        "2 app-api tasks stopped TaskFailedToStart (ResourceInitializationError: secrets)",
        "ecs.no_crash_loop[app-api]",
    ),
    Fault(
        "ecs-health-check-replaced",
        "2 app-api tasks replaced after failing ELB health checks (exit 143)",
        "ecs.no_crash_loop[app-api]",
    ),
    Fault(
        "ecs-rolled",
        "normal: a rolling deploy stopped the previous release's tasks (SIGTERM, exit 143)",
        "every check",
        expect="pass",
    ),
    Fault(
        "ecs-wrong-image",
        "app-api service and tasks run the previous release image",
        "ecs.release[app-api]",
    ),
    Fault(
        "ecs-task-unhealthy",
        "one app-api task reports healthStatus UNHEALTHY",
        "ecs.tasks_healthy[app-api]",
    ),
    Fault("ecs-single-az", "both app-api tasks placed in eu-west-1a", "ecs.tasks_healthy[app-api]"),
    Fault("alarm-firing", "alarm mobilytics-local-api-5xx in ALARM", "alarms.none_firing"),
    Fault("secret-missing", "/mobilytics/local/app-api/redis-auth deleted", "secrets.present"),
    Fault(
        "aws-throttled",
        "every AWS call answers ThrottlingException",
        "every AWS check",
        expect="error",
    ),
    Fault(
        "aws-access-denied",
        "every AWS call answers AccessDenied (403)",
        "every AWS check",
        expect="error",
    ),
)
FAULT_NAMES = frozenset(f.name for f in FAULTS)


class AwsPart:
    """The AWS control plane: one process, one loopback port, the sandbox token at its door."""

    name: ClassVar[str] = "aws"
    after: ClassVar[tuple[str, ...]] = ()
    serves: ClassVar[tuple[str, ...]] = ("alb", "ecs", "alarms", "secrets")
    faults: ClassVar[tuple[Fault, ...]] = FAULTS
    aws_extension: ClassVar[str | None] = None

    def start(self, ctx: PartContext) -> PartState:
        log = ctx.dir / "aws.log"
        (ctx.dir / READY).unlink(missing_ok=True)
        pid = procs.spawn(
            "verify.sandbox.server",
            [
                "--dir",
                str(ctx.dir),
                "--release",
                ctx.release,
                "--previous-release",
                ctx.previous_release,
                "--latency-ms",
                str(ctx.latency_ms),
            ],
            log,
            # Secrets and the token go on stdin so they never show in the process list.
            stdin_data=json.dumps({"secret_values": ctx.secrets, "token": ctx.token}).encode(),
        )
        try:
            ready = procs.wait_ready(ctx.dir / READY, pid, START_TIMEOUT_S, log)
            url = f"http://127.0.0.1:{ready['aws_port']}"
            control.call(url, "status", ctx.token)
        except BaseException:
            procs.stop(pid)
            raise
        ctx.progress(f"AWS ready on {url} (moto seeded in {ready['seed_s']:.2f} s)")
        return PartState(
            endpoints={"aws": url},
            pids={"aws": pid},
            data={"resources": ready.get("resources", {}), "seed_s": ready["seed_s"]},
        )

    def stop(self, state: PartState) -> None:
        for pid in state.pids.values():
            procs.stop(pid)

    def health(self, ctx: PartContext, state: PartState) -> str | None:
        try:
            control.call(state.endpoints["aws"], "status", ctx.token, timeout=5)
        except SandboxError as exc:
            return str(exc)
        return None

    def apply(self, ctx: PartContext, state: PartState, active: frozenset[str]) -> None:
        answer = control.call(
            state.endpoints["aws"], "faults", ctx.token, {"owner": "aws", "active": sorted(active)}
        )
        state.faults = sorted(answer["by_owner"].get("aws", []))

    def active(self, ctx: PartContext, state: PartState) -> frozenset[str]:
        answer = control.call(state.endpoints["aws"], "status", ctx.token, timeout=10)
        return frozenset(answer["by_owner"].get("aws", []))

    def set_latency(self, ctx: PartContext, state: PartState, latency_ms: int) -> None:
        control.call(state.endpoints["aws"], "latency", ctx.token, {"latency_ms": latency_ms})


def push_secrets(ctx: PartContext, values: dict[str, str]) -> None:
    """Store secret values other parts generated (a Redis AUTH, a database URL)."""
    if values:
        ctx.aws_control("secrets", {"values": values})


def load_extension(ctx: PartContext, reference: str, config: dict[str, object]) -> None:
    ctx.aws_control("extension", {"reference": reference, "config": config})


def base_secrets(dir: Path) -> dict[str, str]:
    """Values of the plan's secrets no part provides (generated per sandbox)."""
    import secrets as random

    del dir
    return {name: random.token_urlsafe(32) for name in spec.SECRET_NAMES}
