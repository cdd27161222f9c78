"""Component `ecs`: the cluster's services, deployments, tasks and the release they run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from verify.config import Table
from verify.registry import Component, Probe, ReleaseSource, View

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from verify.context import ProbeContext
    from verify.iam import Grant, Scope
    from verify.probes.aws.ecs import ClusterObservation, Service


class EcsServiceConfig(Table):
    min_tasks: int = Field(1, ge=0, le=10_000)
    container: str | None = None  # the container whose image carries the release


class EcsConfig(Table):
    cluster: str = Field(min_length=1)
    services: dict[str, EcsServiceConfig] = Field(min_length=1, max_length=200)
    # Without --release, the release is the image tag this service's PRIMARY deployment runs.
    release_service: str | None = None

    @model_validator(mode="after")
    def _release_service_is_configured(self) -> EcsConfig:
        if self.release_service is not None and self.release_service not in self.services:
            raise ValueError(f"release_service {self.release_service!r} is not in services")
        return self

    @property
    def release_source(self) -> str:
        return self.release_service or next(iter(self.services))


class EcsThresholds(Table):
    crash_window_s: float = Field(900, gt=0, le=86_400)  # ecs.no_crash_loop looks this far back


def observe_cluster(ctx: ProbeContext) -> ClusterObservation:
    from verify.probes.aws import ecs

    table: EcsConfig = ctx.table
    services = list(table.services)
    return ecs.observe_cluster(
        ctx.aws("ecs"), table.cluster, services, revisions=ctx.release is None
    )


def service_of(observation: ClusterObservation, params: Mapping[str, Any]) -> Service:
    """One configured service; MISSING (with ECS's reason) when ECS does not have it."""
    from verify.probes.aws.ecs import Service

    name = params["ecs_service_name"]
    found = observation.services.get(name)
    if found is not None:
        return found
    reason = observation.cluster_missing or observation.missing.get(name, "not returned")
    where = "cluster" if observation.cluster_missing else "service"
    return Service(
        name=name,
        status=f"MISSING ({where} not found: {reason})",
        desired=0,
        running=0,
        pending=0,
        task_definition="",
        deployments=(),
        events=(),
        tasks=(),
        stopped_tasks=(),
    )


def service_config(table: EcsConfig, params: Mapping[str, Any]) -> EcsServiceConfig:
    return table.services[params["ecs_service_name"]]


def release_container(
    images: Mapping[str, str], service: str, config: EcsServiceConfig
) -> str | None:
    """The container carrying the release: configured, else named like the service, else the
    only one."""
    if config.container:
        return config.container if config.container in images else None
    if service in images:
        return service
    return next(iter(images)) if len(images) == 1 else None


def discover_release(observation: ClusterObservation, table: EcsConfig) -> tuple[str | None, str]:
    """The image tag of the release service's PRIMARY task definition's release container."""
    from verify.probes.aws.ecs import image_tag

    name = table.release_source
    service = observation.services.get(name)
    if service is None or observation.described is None:
        return None, f"service {name} not found in cluster {table.cluster}"
    primary = next((d for d in service.deployments if d.status == "PRIMARY"), None)
    arn = primary.task_definition if primary else service.task_definition
    revision = observation.described.get(arn)
    if revision is None:
        return None, f"task definition {arn} of {name} was not described"
    container = release_container(revision.images, name, table.services[name])
    if container is None:
        return (
            None,
            f"no release container in {arn.rsplit('/', 1)[-1]} (set ecs.services.{name}.container)",
        )
    tag = image_tag(revision.images[container])
    if tag is None:
        return None, f"container {container} of {arn.rsplit('/', 1)[-1]} has no image tag"
    return tag, f"image tag of {name} {arn.rsplit('/', 1)[-1]} container {container}"


def service_arns(
    cluster: str, services: Iterable[str], scope: Scope
) -> tuple[str, tuple[str, ...]]:
    """The cluster's name (from a name or an ARN) and the ARNs of `services` in it."""
    name = cluster.rsplit("/", 1)[-1] if cluster.startswith("arn:") else cluster
    return name, tuple(
        service if service.startswith("arn:") else scope.arn("ecs", f"service/{name}/{service}")
        for service in services
    )


def iam(table: EcsConfig, scope: Scope) -> list[Grant]:
    """The configured services and the cluster's tasks; task definitions cannot be scoped."""
    from verify.iam import Grant

    cluster, services = service_arns(table.cluster, sorted(table.services), scope)
    grants = [
        Grant(("ecs:DescribeServices",), services, why="EcsServices"),
        Grant(("ecs:DescribeTasks",), (scope.arn("ecs", f"task/{cluster}/*"),), why="EcsTasks"),
        Grant(
            ("ecs:ListTasks",),
            condition={"ArnEquals": {"ecs:cluster": scope.arn("ecs", f"cluster/{cluster}")}},
            why="EcsListTasks",
        ),
    ]
    if not scope.release_known:  # the release is discovered from the running task definition
        grants.append(Grant(("ecs:DescribeTaskDefinition",), why="EcsTaskDefinitions"))
    return grants


COMPONENT = Component(
    name="ecs",
    table=EcsConfig,
    thresholds=EcsThresholds,
    checks="verify.checks.test_ecs",
    probes=(Probe("ecs.cluster", observe_cluster),),
    views=(
        View("ecs_cluster", "ecs.cluster"),
        View("ecs_service", "ecs.cluster", service_of, params=("ecs_service_name",)),
        View("ecs_service_config", None, service_config, params=("ecs_service_name",)),
    ),
    params={"ecs_service_name": lambda table: list(table.services)},
    release=ReleaseSource("ecs.cluster", discover_release),
    summary="services stable, tasks healthy and spread, the release running, no crash loop",
    iam=iam,
)
