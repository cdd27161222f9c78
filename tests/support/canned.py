"""Canned observations for in-process runs of the packaged checks (pytester, milliseconds each).

A test writes a plugin module that builds observations with these helpers and hands them to
`install(session, {...})`; the run's scheduler then answers from them instead of probing. A value
may be a callable (called on every get/refresh, so it can change, raise, skip or sleep).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from verify.probes.aws.cloudwatch import Alarm
from verify.probes.aws.ecs import ClusterObservation, Container, Deployment, Revision, Service, Task
from verify.probes.aws.elb import Target, TargetGroup, TargetGroupsObservation
from verify.probes.aws.secrets import SecretPresence
from verify.probes.http import HttpObservation

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
RELEASE = "2026.11.26-1"
PREVIOUS = "2026.11.25-3"
ENVIRONMENTS = """
[environments.prod]
aws = { region = "eu-west-1" }
api = { base_url = "https://api.example.test" }
alb = { target_groups = ["tg-api"] }
alarms = { prefix = "p-" }
secrets = { required = ["/p/api/db"] }
ecs = { cluster = "c", services = { app-api = { min_tasks = 2 } } }
thresholds = { run_deadline_s = 30 }
"""


def td(family: str, revision: int) -> str:
    return f"arn:aws:ecs:eu-west-1:123456789012:task-definition/{family}:{revision}"


def image(release: str) -> str:
    return f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/app-api:{release}"


def task(
    number: int,
    *,
    zone: str = "eu-west-1a",
    release: str = RELEASE,
    revision: int = 2,
    health: str = "HEALTHY",
    stopped_minutes_ago: float | None = None,
    stop_code: str | None = None,
    reason: str | None = None,
    exit_code: int | None = None,
) -> Task:
    stopped = stopped_minutes_ago is not None
    return Task(
        arn=f"arn:aws:ecs:eu-west-1:123456789012:task/c/{number:032x}",
        service="app-api",
        last_status="STOPPED" if stopped else "RUNNING",
        desired_status="STOPPED" if stopped else "RUNNING",
        health="UNKNOWN" if stopped else health,
        availability_zone=zone,
        task_definition=td("app-api", revision),
        started_at=NOW - timedelta(minutes=30),
        stopped_at=NOW - timedelta(minutes=stopped_minutes_ago) if stopped else None,
        stop_code=stop_code,
        stopped_reason=reason,
        containers=(
            Container(
                "app-api",
                image(release),
                "STOPPED" if stopped else "RUNNING",
                exit_code,
                None,
                None,
            ),
        ),
    )


def service(
    *,
    running: int = 2,
    desired: int = 2,
    tasks: Iterable[Task] | None = None,
    stopped: Iterable[Task] = (),
    deployments: Iterable[Deployment] | None = None,
    status: str = "ACTIVE",
) -> Service:
    return Service(
        name="app-api",
        status=status,
        desired=desired,
        running=running,
        pending=0,
        task_definition=td("app-api", 2),
        deployments=tuple(deployments)
        if deployments is not None
        else (
            Deployment(
                "ecs-svc/1", "PRIMARY", td("app-api", 2), desired, running, "COMPLETED", "done"
            ),
        ),
        events=("(service app-api) has reached a steady state.",),
        tasks=tuple(tasks) if tasks is not None else (task(1), task(2, zone="eu-west-1b")),
        stopped_tasks=tuple(stopped),
    )


def cluster(
    svc: Service | None = None, *, newest_revision: int = 2, missing: bool = False
) -> ClusterObservation:
    if missing:
        return ClusterObservation(
            "c", {}, {}, NOW, cluster_missing="ClusterNotFoundException: Cluster not found."
        )
    revision = Revision(td("app-api", newest_revision), {"app-api": image(RELEASE)})
    return ClusterObservation(
        "c",
        {"app-api": svc or service()},
        {},
        NOW,
        newest={"app-api": revision},
        described={
            revision.arn: revision,
            td("app-api", 2): Revision(td("app-api", 2), {"app-api": image(RELEASE)}),
        },
    )


def http(
    status: int = 200,
    body: str = f'{{"status": "ok", "release": "{RELEASE}"}}',
    latency_ms: float = 20,
) -> HttpObservation:
    import json

    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    return HttpObservation("https://api.example.test/health", status, latency_ms, body, parsed)


def targets(*states: str) -> TargetGroupsObservation:
    zones = ("eu-west-1a", "eu-west-1b")
    found = tuple(
        Target(f"10.0.{i}.10", 3000, state, None, None, zones[i % 2])
        for i, state in enumerate(states or ("healthy", "healthy"))
    )
    return TargetGroupsObservation([TargetGroup("tg-api", "arn:tg", "ip", found)], [])


def alarms(*states: str) -> list[Alarm]:
    return [
        Alarm(f"p-{i}", "metric", state, "reason", NOW) for i, state in enumerate(states or ("OK",))
    ]


def secrets(present: bool = True) -> list[SecretPresence]:
    return [
        SecretPresence("/p/api/db", "secretsmanager", present, "exists" if present else "not found")
    ]


def healthy() -> dict[str, Any]:
    """Every probe of ENVIRONMENTS' prod answering a healthy platform."""
    return {
        "api.health": http(),
        "api.version": http(),
        "alb.targets": targets(),
        "ecs.cluster": cluster(),
        "alarms": alarms(),
        "secrets": secrets(),
    }


class Canned:
    """Stands in for the run's Scheduler."""

    def __init__(self, observations: dict[str, Any]) -> None:
        self.observations = observations
        self.timings: list[Any] = []
        self.gets: list[str] = []
        self.observed_at: dict[str, float] = {}

    def start(self, keys: Iterable[str]) -> None:
        pass

    def age(self, key: str) -> float:
        """Like Scheduler.age: seconds since `key` was last answered."""
        return time.monotonic() - self.observed_at.get(key, time.monotonic())

    def get(self, key: str) -> Any:
        self.gets.append(key)
        self.observed_at[key] = time.monotonic()
        value = self.observations[key]
        if isinstance(value, BaseException):
            raise value
        return value() if callable(value) else value

    refresh = get

    def running(self) -> bool:
        return False

    def close(self, closers: Any = (), budget_s: float = 0) -> None:
        pass


def install(config: Any, observations: dict[str, Any]) -> Canned:
    """Make the run answer from `observations` (call from pytest_sessionstart, trylast)."""
    from verify.run import current

    run = current(config)
    assert run is not None
    canned = Canned(observations)
    run.scheduler = canned  # type: ignore[assignment]
    return canned


def plugin(observations: str, extra: str = "") -> str:
    """Source of a plugin module answering from `observations` (an expression over this module)."""
    return f"""
import pytest
from tests.support.canned import *

@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session):
    install(session.config, {observations})
{extra}
"""


def sequence(*values: Any) -> Callable[[], Any]:
    """A callable answering each value in turn, then the last one for ever."""
    answers = list(values)

    def next_answer() -> Any:
        value = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(value, BaseException):
            raise value
        return value() if callable(value) else value

    return next_answer


QUIET = ("-p", "no:randomly", "-p", "no:cacheprovider")


REPO = Path(__file__).resolve().parents[2]


def gate(
    pytester: pytest.Pytester,
    observations: str = "healthy()",
    *args: str,
    extra: str = "",
    environments: str = ENVIRONMENTS,
    subprocess: bool = False,
) -> tuple[pytest.RunResult, dict[str, Any]]:
    """`pytest --env=prod -m smoke` with the plugin `observations` answers from."""
    pytester.makefile(".toml", environments=environments)
    pytester.makepyfile(canned_plugin=plugin(observations, extra))
    pytester.syspathinsert()
    argv = ("--env=prod", "-m", "smoke", "-p", "canned_plugin", *QUIET, *args)
    if subprocess:  # a KeyboardInterrupt or a crash must not reach this test's own process
        import os

        path = os.pathsep.join([str(pytester.path), str(REPO)])
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("PYTHONPATH", path)
            result = pytester.runpytest_subprocess(*argv)
    else:
        result = pytester.runpytest(*argv)
    verdict = json.loads((pytester.path / "reports" / "verdict.json").read_text())
    return result, verdict


def statuses(verdict: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["id"]: (c["status"], c["message"]) for c in verdict["checks"]}
