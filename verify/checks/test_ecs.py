"""ECS checks, one set per configured service: stable, healthy, spread, on the release, not crashing."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from verify.text import one_line, plural

if TYPE_CHECKING:
    from verify.components.ecs import EcsServiceConfig
    from verify.fixtures.core import CheckRecord
    from verify.probes.aws.ecs import ClusterObservation, Service, Task
    from verify.run import Run

pytestmark = [pytest.mark.smoke, pytest.mark.synthetic]
# Stopped by the platform, not by the task's own failure, whatever the exit code (143 is SIGTERM).
NORMAL_STOPS = ("UserInitiated", "SpotInterruption", "TerminationNotice")


def evidence(service: Service) -> list[str]:
    """The service's latest events and how its recent tasks stopped."""
    lines = [f"event: {message}" for message in service.events]
    for task in service.stopped_tasks[:5]:
        codes = [c.exit_code for c in task.containers]
        lines.append(
            f"stopped task {task.id}: stopCode={task.stop_code} reason={task.stopped_reason!r} "
            f"exit codes={codes}"
        )
    return lines


def crash_of(task: Task) -> str | None:
    """Why a stopped task counts as a crash, or None for a normal stop (deploy, scale-in, ...)."""
    reason = task.stopped_reason or ""
    nonzero = [c.exit_code for c in task.containers if c.exit_code not in (None, 0)]
    if task.stop_code == "TaskFailedToStart":
        return f"failed to start: {reason}"
    if task.stop_code == "ServiceSchedulerInitiated":
        # Replacing a task that failed its ELB or container health checks is a crash; stopping
        # the previous release's tasks for a deployment or scale-in is not.
        return f"replaced: {reason}" if "health check" in reason.lower() else None
    if task.stop_code in NORMAL_STOPS:
        return None
    if nonzero:  # EssentialContainerExited, or no stop code (older answers)
        return f"exit {nonzero}" + (f" ({reason})" if reason else "")
    return None


@pytest.mark.settle
def test_service_stable(
    ecs_service: Service, ecs_service_config: EcsServiceConfig, verify_check: CheckRecord
) -> None:
    """ACTIVE, running == desired >= min_tasks, one PRIMARY deployment, rollout COMPLETED."""
    svc, minimum = ecs_service, ecs_service_config.min_tasks
    rollouts = [f"{d.status}:{d.rollout_state}" for d in svc.deployments]
    verify_check.record(
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
        evidence=evidence(svc),
    )
    assert svc.status == "ACTIVE", f"service {svc.name} is {svc.status}; expected ACTIVE"
    primary = next((d for d in svc.deployments if d.status == "PRIMARY"), None)
    assert primary is not None, (
        f"service {svc.name}: no PRIMARY deployment ({rollouts}); expected one"
    )
    assert primary.rollout_state != "FAILED", (
        f"service {svc.name}: rollout of {primary.task_definition.rsplit('/', 1)[-1]} FAILED "
        f"({primary.rollout_reason}); expected COMPLETED"
    )
    assert svc.running == svc.desired, (
        f"service {svc.name}: running {svc.running} of desired {svc.desired}; expected running == desired"
    )
    assert svc.desired >= minimum, (
        f"service {svc.name}: desired {svc.desired}; expected >= {minimum} (min_tasks)"
    )
    assert len(svc.deployments) == 1, (
        f"service {svc.name}: rollout in progress, deployments {rollouts}; expected one PRIMARY"
    )
    assert primary.rollout_state == "COMPLETED", (
        f"service {svc.name}: rollout {primary.rollout_state} ({primary.rollout_reason}); expected COMPLETED"
    )


@pytest.mark.settle
def test_tasks_healthy(
    ecs_service: Service,
    ecs_service_config: EcsServiceConfig,
    verify_thresholds: Any,
    verify_check: CheckRecord,
) -> None:
    """Every running task HEALTHY; spread over >= min_azs AZs when min_tasks >= 2."""
    tasks, min_azs = ecs_service.tasks, verify_thresholds.min_azs
    spread = ecs_service_config.min_tasks >= 2
    zones = sorted({t.availability_zone for t in tasks if t.availability_zone})
    verify_check.record(
        observed={"health": {t.id: t.health for t in tasks}, "azs": zones},
        threshold={"health": "HEALTHY", "min_azs": min_azs if spread else 1},
        evidence=evidence(ecs_service),
    )
    # A service allowed to scale to zero (min_tasks 0) has nothing to be unhealthy.
    assert tasks or ecs_service_config.min_tasks == 0, (
        f"service {ecs_service.name} ({ecs_service.status}): 0 running tasks; "
        f"expected >= {ecs_service_config.min_tasks}"
    )
    sick = [t for t in tasks if t.health != "HEALTHY"]
    assert not sick, (
        f"service {ecs_service.name}: {len(sick)} of {plural(len(tasks), 'task')} not HEALTHY ("
        + ", ".join(f"{t.id} {t.health}" for t in sick)
        + "); expected all HEALTHY"
    )
    if spread:
        assert len(zones) >= min_azs, (
            f"service {ecs_service.name}: {plural(len(tasks), 'task')} in {plural(len(zones), 'AZ')} "
            f"{zones}; expected spread over >= {min_azs}"
        )


def _release_tags(service: Service, config: EcsServiceConfig) -> dict[str, str | None]:
    from verify.components.ecs import release_container

    tags = {}
    for task in service.tasks:
        images = {c.name: c.image for c in task.containers}
        name = release_container(images, service.name, config)
        for container in task.containers:
            if name is None or container.name == name:
                tags[f"{task.id}/{container.name}"] = container.image_tag
    return tags


@pytest.mark.settle
def test_release(
    ecs_service: Service,
    ecs_service_config: EcsServiceConfig,
    ecs_cluster: ClusterObservation,
    verify_run: Run,
    verify_check: CheckRecord,
) -> None:
    """With --release: every running task's image tag is it. Without: the PRIMARY deployment runs
    the newest ACTIVE revision of its family (a circuit-breaker rollback leaves an older one)."""
    svc, release = ecs_service, verify_run.release
    if release is None:
        _runs_newest_revision(svc, ecs_cluster, verify_check)
        return
    tags = _release_tags(svc, ecs_service_config)
    verify_check.record(
        observed={"image_tags": tags}, threshold={"image_tag": release}, evidence=evidence(svc)
    )
    assert tags or ecs_service_config.min_tasks == 0, (
        f"service {svc.name} ({svc.status}): no running task to compare; expected tasks on {release!r}"
    )
    wrong = {where: tag for where, tag in tags.items() if tag != release}
    assert not wrong, (
        f"service {svc.name}: {len(wrong)} of {plural(len(tags), 'container')} run "
        + ", ".join(f"{where}={tag}" for where, tag in wrong.items())
        + f"; expected image tag {release!r}"
    )


def _runs_newest_revision(
    svc: Service, cluster: ClusterObservation, verify_check: CheckRecord
) -> None:
    from verify.probes.aws.ecs import family_of

    primary = next((d for d in svc.deployments if d.status == "PRIMARY"), None)
    current = primary.task_definition if primary else svc.task_definition
    newest = (cluster.newest or {}).get(family_of(current)) if current else None
    running = sorted({t.task_definition.rsplit("/", 1)[-1] for t in svc.tasks})
    verify_check.record(
        observed={"primary": current.rsplit("/", 1)[-1], "tasks_run": running},
        threshold={"newest_active_revision": newest.arn.rsplit("/", 1)[-1] if newest else None},
        evidence=evidence(svc),
    )
    assert current, (
        f"service {svc.name} ({svc.status}): no task definition; expected the newest revision"
    )
    assert newest is not None, f"service {svc.name}: family of {current} has no ACTIVE revision"
    assert current == newest.arn, (
        f"service {svc.name}: PRIMARY deployment runs {current.rsplit('/', 1)[-1]}; expected the newest "
        f"ACTIVE revision {newest.arn.rsplit('/', 1)[-1]} (rolled back?)"
    )
    stale = [t.id for t in svc.tasks if t.task_definition != current]
    assert not stale, (
        f"service {svc.name}: {plural(len(stale), 'task')} on another revision than "
        f"{current.rsplit('/', 1)[-1]}; expected all on it"
    )


def test_no_crash_loop(
    ecs_service: Service,
    ecs_cluster: ClusterObservation,
    verify_thresholds: Any,
    verify_check: CheckRecord,
) -> None:
    """No task of the service crashed within the crash window: failed to start, exited non-zero
    on its own, or was replaced after failing health checks. Deploy and scale-in stops are normal."""
    window_s = verify_thresholds.crash_window_s
    since = ecs_cluster.observed_at - timedelta(seconds=window_s)
    recent = [t for t in ecs_service.stopped_tasks if t.stopped_at and t.stopped_at >= since]
    crashed = {t.id: why for t in recent if (why := crash_of(t)) is not None}
    window_min = window_s / 60
    verify_check.record(
        observed={"crashed_tasks": crashed, "stopped_in_window": len(recent)},
        threshold={"window_min": window_min, "crashed_tasks": {}},
        evidence=evidence(ecs_service),
    )
    assert ecs_cluster.cluster_missing is None and not ecs_service.status.startswith("MISSING"), (
        f"service {ecs_service.name} is {ecs_service.status}; expected ACTIVE"
    )
    kinds = Counter(why for why in crashed.values())
    assert not crashed, (
        f"service {ecs_service.name}: {plural(len(crashed), 'task')} crashed in the last "
        f"{window_min:g} min ("
        + "; ".join(f"{n}x {one_line(why, 140)}" for why, n in kinds.most_common())
        + "); expected none"
    )
