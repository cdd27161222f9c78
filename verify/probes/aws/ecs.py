"""ECS probe: services, their deployments and tasks, in as few batched calls as the API allows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from verify.probes.aws.calls import DEFAULT_MAX_WORKERS, aws_errors, call_pool, chunked
from verify.probes.errors import ProbeError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from concurrent.futures import Executor

    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_ecs.literals import DesiredStatusType
    from mypy_boto3_ecs.type_defs import (
        ContainerTypeDef,
        DeploymentTypeDef,
        FailureTypeDef,
        ServiceTypeDef,
        TaskTypeDef,
    )

# Per-call limits of the ECS API.
SERVICES_PER_DESCRIBE = 10
TASKS_PER_DESCRIBE = 100
TASKS_PER_LIST_PAGE = 100
EVENTS_KEPT = 5


@dataclass(frozen=True)
class Deployment:
    id: str
    status: str  # PRIMARY | ACTIVE | INACTIVE
    task_definition: str  # ARN
    desired: int
    running: int
    rollout_state: str | None  # COMPLETED | IN_PROGRESS | FAILED
    rollout_reason: str | None


def image_tag(image: str) -> str | None:
    """The tag of `repo:tag` (None for digest-pinned or untagged images)."""
    reference = image.split("@", 1)[0]  # drop a trailing @sha256:... digest
    # Only the last path segment can hold the tag; earlier colons are registry ports.
    last_segment = reference.rsplit("/", 1)[-1]
    _, colon, tag = last_segment.partition(":")
    return tag if colon and tag else None


@dataclass(frozen=True)
class Container:
    name: str
    image: str
    last_status: str
    exit_code: int | None
    health: str | None
    reason: str | None

    @property
    def image_tag(self) -> str | None:
        return image_tag(self.image)


@dataclass(frozen=True)
class Task:
    arn: str
    service: str | None  # from group "service:NAME"
    last_status: str
    desired_status: str
    health: str  # HEALTHY | UNHEALTHY | UNKNOWN
    availability_zone: str | None
    task_definition: str
    started_at: datetime | None
    stopped_at: datetime | None
    stop_code: str | None
    stopped_reason: str | None
    containers: tuple[Container, ...]

    @property
    def id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Service:
    name: str
    status: str  # ACTIVE | DRAINING | INACTIVE
    desired: int
    running: int
    pending: int
    task_definition: str
    deployments: tuple[Deployment, ...]
    events: tuple[str, ...]  # newest first, at most 5 messages
    tasks: tuple[Task, ...]  # RUNNING (desired) tasks of this service
    stopped_tasks: tuple[Task, ...]  # STOPPED tasks ECS still reports (about the last hour)


@dataclass(frozen=True)
class Revision:
    """The task definition a family's newest ACTIVE revision is, and its containers' images."""

    arn: str
    images: dict[str, str]  # container name -> image


@dataclass(frozen=True)
class ClusterObservation:
    cluster: str
    services: dict[str, Service]
    missing: dict[str, str]  # service name -> reason from describe_services failures
    observed_at: datetime  # UTC
    cluster_missing: str | None = None  # ECS answered that the cluster does not exist
    # Only without --release: family -> newest ACTIVE revision; task definition ARN -> revision.
    newest: dict[str, Revision] | None = None
    described: dict[str, Revision] | None = None


def family_of(task_definition_arn: str) -> str:
    """`app-api` of `arn:aws:ecs:...:task-definition/app-api:7`."""
    return task_definition_arn.rsplit("/", 1)[-1].rsplit(":", 1)[0]


def observe_cluster(
    ecs: ECSClient,
    cluster: str,
    services: Sequence[str],
    *,
    revisions: bool = False,
    max_workers: int = DEFAULT_MAX_WORKERS,
) -> ClusterObservation:
    """Describe `services` (10 a call), list RUNNING and STOPPED tasks, describe them (100 a call).

    Two rounds of concurrent calls: describes and listings together, then task describes (and,
    with `revisions`, each family's newest ACTIVE task definition). A cluster ECS does not know is
    an observation (`cluster_missing`), not an error. `max_workers=1` makes the calls sequential.
    """
    observed_at = datetime.now(UTC)
    wanted = list(dict.fromkeys(services))
    if not wanted:
        return ClusterObservation(cluster, {}, {}, observed_at)
    try:
        with call_pool(max_workers) as pool:
            described = [
                pool.submit(_describe_services, ecs, cluster, chunk)
                for chunk in chunked(wanted, SERVICES_PER_DESCRIBE)
            ]
            running = pool.submit(_list_task_arns, ecs, cluster, "RUNNING")
            stopped = pool.submit(_list_task_arns, ecs, cluster, "STOPPED")
            # Collect in submission order so the error reported is the first call's, run after run.
            described_chunks = [future.result() for future in described]
            # A task can change desired status between the two listings: describe it once.
            task_arns = list(dict.fromkeys([*running.result(), *stopped.result()]))
            task_batches = [
                pool.submit(_describe_tasks, ecs, cluster, chunk)
                for chunk in chunked(task_arns, TASKS_PER_DESCRIBE)
            ]
            raw_services = [s for found, _ in described_chunks for s in found]
            newest = described_revisions = None
            if revisions:
                newest, described_revisions = _revisions(ecs, raw_services, pool)
            raw_tasks = [task for future in task_batches for task in future.result()]
    except ProbeError as error:
        if "ClusterNotFoundException" not in error.cause:
            raise
        return ClusterObservation(cluster, {}, {}, observed_at, cluster_missing=error.cause)
    _check_cluster(cluster, raw_services)
    failures = [failure for _, chunk_failures in described_chunks for failure in chunk_failures]

    tasks_by_service: dict[str, list[Task]] = {}
    for raw_task in raw_tasks:
        task = _task(raw_task)
        if task.service is not None:
            tasks_by_service.setdefault(task.service, []).append(task)

    observed: dict[str, Service] = {}
    for raw in raw_services:
        name = _requested_name(wanted, raw.get("serviceName", ""), raw.get("serviceArn", ""))
        if name is not None:
            observed[name] = _service(raw, tasks_by_service.get(raw.get("serviceName", ""), []))
    missing: dict[str, str] = {}
    for failure in failures:
        arn = failure.get("arn", "")
        name = _requested_name(wanted, arn.rsplit("/", 1)[-1], arn)
        if name is not None and name not in observed:
            missing[name] = _failure_reason(failure)
    for name in wanted:
        if name not in observed and name not in missing:
            missing[name] = "not returned by DescribeServices"
    return ClusterObservation(
        cluster, observed, missing, observed_at, newest=newest, described=described_revisions
    )


def _check_cluster(cluster: str, raw_services: Sequence[ServiceTypeDef]) -> None:
    """Every service in the answer belongs to the cluster asked about (a wrong answer is ERROR)."""
    for raw in raw_services:
        arn = raw.get("clusterArn", "")
        if arn and arn != cluster and arn.rsplit("/", 1)[-1] != cluster:
            raise ProbeError(
                f"ecs:DescribeServices cluster={cluster}",
                f"the answer is about cluster {arn.rsplit('/', 1)[-1]!r}, not {cluster!r}",
            )


def _revisions(
    ecs: ECSClient, raw_services: Sequence[ServiceTypeDef], pool: Executor
) -> tuple[dict[str, Revision], dict[str, Revision]]:
    """Each family's newest ACTIVE revision, and every PRIMARY task definition that is not one.

    DescribeTaskDefinition of a bare family answers its newest ACTIVE revision: one call per
    family (ListTaskDefinitions' familyPrefix would also match `app-api-canary`).
    """
    primaries = {
        d.get("taskDefinition", "")
        for raw in raw_services
        for d in raw.get("deployments", [])
        if d.get("status") == "PRIMARY"
    } | {raw.get("taskDefinition", "") for raw in raw_services}
    primaries.discard("")
    families = sorted({family_of(arn) for arn in primaries})
    lookups = {family: pool.submit(_describe_task_definition, ecs, family) for family in families}
    newest = {family: future.result() for family, future in lookups.items()}
    known = {revision.arn for revision in newest.values()}
    others = {arn: pool.submit(_describe_task_definition, ecs, arn) for arn in primaries - known}
    described = {revision.arn: revision for revision in newest.values()}
    described.update({arn: future.result() for arn, future in others.items()})
    return newest, described


def _describe_task_definition(ecs: ECSClient, name: str) -> Revision:
    with aws_errors(f"ecs:DescribeTaskDefinition taskDefinition={name}", ecs):
        answer = ecs.describe_task_definition(taskDefinition=name)["taskDefinition"]
    arn = answer.get("taskDefinitionArn", "")
    if family_of(arn) != family_of(name):
        raise ProbeError(f"ecs:DescribeTaskDefinition {name}", f"the answer is about {arn!r}")
    images = {c.get("name", ""): c.get("image", "") for c in answer.get("containerDefinitions", [])}
    return Revision(arn, images)


def _describe_services(
    ecs: ECSClient, cluster: str, names: Sequence[str]
) -> tuple[list[ServiceTypeDef], list[FailureTypeDef]]:
    """One DescribeServices call: the services found and the failures for the rest."""
    with aws_errors(f"ecs:DescribeServices cluster={cluster}", ecs):
        response = ecs.describe_services(cluster=cluster, services=list(names))
    return response.get("services", []), response.get("failures", [])


def _list_task_arns(ecs: ECSClient, cluster: str, desired_status: DesiredStatusType) -> list[str]:
    """Every task ARN in `cluster` with that desired status (all pages)."""
    paginator = ecs.get_paginator("list_tasks")
    pages = paginator.paginate(
        cluster=cluster,
        desiredStatus=desired_status,
        PaginationConfig={"PageSize": TASKS_PER_LIST_PAGE},
    )
    with aws_errors(f"ecs:ListTasks cluster={cluster} desiredStatus={desired_status}", ecs):
        return [arn for page in pages for arn in page.get("taskArns", [])]


def _describe_tasks(ecs: ECSClient, cluster: str, arns: Sequence[str]) -> list[TaskTypeDef]:
    """One DescribeTasks call; tasks gone since the listing come back as failures: dropped."""
    with aws_errors(f"ecs:DescribeTasks cluster={cluster}", ecs):
        response = ecs.describe_tasks(cluster=cluster, tasks=list(arns))
    return response.get("tasks", [])


def _requested_name(wanted: Sequence[str], name: str, arn: str) -> str | None:
    """The entry of `wanted` (a name or an ARN) that this service answers to."""
    if name in wanted:
        return name
    return arn if arn in wanted else None


def _failure_reason(failure: FailureTypeDef) -> str:
    """`MISSING` or `MISSING: detail`."""
    reason = failure.get("reason", "unknown failure")
    detail = failure.get("detail")
    return f"{reason}: {detail}" if detail else reason


def _service(raw: ServiceTypeDef, tasks: Sequence[Task]) -> Service:
    """A Service from DescribeServices output and this service's described tasks."""
    events = sorted(
        raw.get("events", []),
        key=lambda event: event.get("createdAt", datetime.min.replace(tzinfo=UTC)),
        reverse=True,
    )
    return Service(
        name=raw.get("serviceName", ""),
        status=raw.get("status", "UNKNOWN"),
        desired=raw.get("desiredCount", 0),
        running=raw.get("runningCount", 0),
        pending=raw.get("pendingCount", 0),
        task_definition=raw.get("taskDefinition", ""),
        deployments=tuple(_deployment(deployment) for deployment in raw.get("deployments", [])),
        events=tuple(event.get("message", "") for event in events[:EVENTS_KEPT]),
        tasks=tuple(task for task in tasks if task.desired_status != "STOPPED"),
        stopped_tasks=tuple(task for task in tasks if task.desired_status == "STOPPED"),
    )


def _deployment(raw: DeploymentTypeDef) -> Deployment:
    return Deployment(
        id=raw.get("id", ""),
        status=raw.get("status", "UNKNOWN"),
        task_definition=raw.get("taskDefinition", ""),
        desired=raw.get("desiredCount", 0),
        running=raw.get("runningCount", 0),
        rollout_state=raw.get("rolloutState"),
        rollout_reason=raw.get("rolloutStateReason"),
    )


def _task(raw: TaskTypeDef) -> Task:
    group = raw.get("group", "")
    return Task(
        arn=raw.get("taskArn", ""),
        service=group.removeprefix("service:") if group.startswith("service:") else None,
        last_status=raw.get("lastStatus", "UNKNOWN"),
        desired_status=raw.get("desiredStatus", "UNKNOWN"),
        # No health check defined (or an older API answer) means ECS cannot say: UNKNOWN.
        health=raw.get("healthStatus", "UNKNOWN"),
        availability_zone=raw.get("availabilityZone"),
        task_definition=raw.get("taskDefinitionArn", ""),
        started_at=raw.get("startedAt"),
        stopped_at=raw.get("stoppedAt"),
        stop_code=raw.get("stopCode"),
        stopped_reason=raw.get("stoppedReason"),
        containers=tuple(_container(container) for container in raw.get("containers", [])),
    )


def _container(raw: ContainerTypeDef) -> Container:
    return Container(
        name=raw.get("name", ""),
        image=raw.get("image", ""),
        last_status=raw.get("lastStatus", "UNKNOWN"),
        exit_code=raw.get("exitCode"),
        health=raw.get("healthStatus"),
        reason=raw.get("reason"),
    )
