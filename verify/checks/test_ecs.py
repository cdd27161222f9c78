"""ECS checks, one set per configured service: stable, healthy, spread, on the release, not crashing."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from verify import run as run_state

if TYPE_CHECKING:
    from verify.config import EcsServiceConfig, EnvConfig, Thresholds
    from verify.fixtures.core import CheckRecord
    from verify.probes.aws.ecs import ClusterObservation, Container, Service, Task

pytestmark = [pytest.mark.smoke, pytest.mark.synthetic]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "ecs_service_name" not in metafunc.fixturenames:
        return
    run = run_state.current(metafunc.config)
    spec = run.env.spec.ecs if run else None
    names = list(spec.services) if spec else ["-"]  # "-": skipped at collection, not configured
    metafunc.parametrize("ecs_service_name", names, ids=names)


@pytest.fixture
def service_config(verify_env: EnvConfig, ecs_service_name: str) -> EcsServiceConfig:
    assert verify_env.spec.ecs is not None
    return verify_env.spec.ecs.services[ecs_service_name]


def _latest_event(service: Service) -> str:
    return f" (latest event: {service.events[0]})" if service.events else ""


@pytest.mark.settle
def test_service_stable(
    ecs_service: Service, service_config: EcsServiceConfig, check: CheckRecord
) -> None:
    """ACTIVE, running == desired >= min_tasks, one PRIMARY deployment, rollout COMPLETED."""
    svc, minimum = ecs_service, service_config.min_tasks
    rollouts = [f"{d.status}:{d.rollout_state}" for d in svc.deployments]
    check.record(
        observed={
            "status": svc.status,
            "running": svc.running,
            "desired": svc.desired,
            "deployments": rollouts,
        },
        threshold={
            "status": "ACTIVE",
            "running": "== desired",
            "min_tasks": minimum,
            "deployments": ["PRIMARY:COMPLETED"],
        },
    )
    assert svc.status == "ACTIVE", f"service {svc.name} is {svc.status}; expected ACTIVE"
    assert svc.running == svc.desired, (
        f"service {svc.name}: running {svc.running} of desired {svc.desired}; "
        f"expected running == desired{_latest_event(svc)}"
    )
    assert svc.desired >= minimum, (
        f"service {svc.name}: desired {svc.desired}; expected >= {minimum} (min_tasks)"
    )
    assert len(svc.deployments) == 1 and svc.deployments[0].status == "PRIMARY", (
        f"service {svc.name}: deployments {rollouts}; expected one PRIMARY (a rollout is in progress "
        f"or stuck){_latest_event(svc)}"
    )
    primary = svc.deployments[0]
    assert primary.rollout_state == "COMPLETED", (
        f"service {svc.name}: rollout {primary.rollout_state} ({primary.rollout_reason}); "
        "expected COMPLETED"
    )


@pytest.mark.settle
def test_tasks_healthy(
    ecs_service: Service,
    service_config: EcsServiceConfig,
    thresholds: Thresholds,
    check: CheckRecord,
) -> None:
    """Every running task HEALTHY; spread over >= min_azs AZs when min_tasks >= 2."""
    tasks = ecs_service.tasks
    zones = sorted({t.availability_zone or "?" for t in tasks})
    check.record(
        observed={"health": {t.id: t.health for t in tasks}, "azs": zones},
        threshold={
            "health": "HEALTHY",
            "min_azs": thresholds.min_azs if service_config.min_tasks >= 2 else 1,
        },
    )
    # A service allowed to scale to zero (min_tasks 0) has nothing to be unhealthy.
    assert tasks or service_config.min_tasks == 0, (
        f"service {ecs_service.name}: 0 running tasks; expected >= {service_config.min_tasks}"
    )
    sick = [t for t in tasks if t.health != "HEALTHY"]
    assert not sick, (
        f"service {ecs_service.name}: {len(sick)} of {len(tasks)} tasks not HEALTHY ("
        + ", ".join(f"{t.id} {t.health}" for t in sick)
        + "); expected all HEALTHY"
    )
    if service_config.min_tasks >= 2:
        known = {t.availability_zone for t in tasks if t.availability_zone}
        assert len(known) >= thresholds.min_azs, (
            f"service {ecs_service.name}: {len(tasks)} tasks in {len(known)} AZ(s) {sorted(known)}; "
            f"expected spread over >= {thresholds.min_azs}"
        )


def _release_containers(
    task: Task, service: str, config: EcsServiceConfig
) -> tuple[Container, ...]:
    """The container carrying the release: configured, else named like the service, else all."""
    wanted = config.container or service
    named = tuple(c for c in task.containers if c.name == wanted)
    return named if named or config.container else task.containers


@pytest.mark.settle
@pytest.mark.requires_release
def test_release(
    ecs_service: Service, service_config: EcsServiceConfig, release: str, check: CheckRecord
) -> None:
    """Every running task's image tag is the release that must be live."""
    tags = {
        f"{t.id}/{c.name}": c.image_tag
        for t in ecs_service.tasks
        for c in _release_containers(t, ecs_service.name, service_config)
    }
    check.record(observed={"image_tags": tags}, threshold={"image_tag": release})
    assert tags or service_config.min_tasks == 0, (
        f"service {ecs_service.name}: no running task to compare; expected tasks on {release!r}"
    )
    wrong = {where: tag for where, tag in tags.items() if tag != release}
    assert not wrong, (
        f"service {ecs_service.name}: {len(wrong)} of {len(tags)} containers run "
        + ", ".join(f"{where}={tag}" for where, tag in wrong.items())
        + f"; expected image tag {release!r}"
    )


def test_no_crash_loop(
    ecs_service: Service,
    ecs_cluster: ClusterObservation,
    thresholds: Thresholds,
    check: CheckRecord,
) -> None:
    """No task of the service stopped with a non-zero exit code within the crash window."""
    since = ecs_cluster.observed_at - timedelta(seconds=thresholds.crash_window_s)
    crashed = {
        t.id: [c.exit_code for c in t.containers if c.exit_code not in (None, 0)]
        for t in ecs_service.stopped_tasks
        if t.stopped_at and t.stopped_at >= since
    }
    crashed = {task: codes for task, codes in crashed.items() if codes}
    window_min = thresholds.crash_window_s / 60
    check.record(
        observed={"crashed_tasks": crashed},
        threshold={"window_min": window_min, "crashed_tasks": {}},
    )
    assert not crashed, (
        f"service {ecs_service.name}: {len(crashed)} tasks exited non-zero in the last {window_min:g} min ("
        + ", ".join(f"{task} exit {codes}" for task, codes in crashed.items())
        + "); expected none"
    )
