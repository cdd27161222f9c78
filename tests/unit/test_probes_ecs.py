"""ECS probe against botocore's Stubber (real response shapes) and a scripted, timed responder."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from verify.probes.aws.ecs import Container, observe_cluster
from verify.probes.errors import ProbeError

REGION = "eu-west-1"
ACCOUNT = "123456789012"
CLUSTER = "mobilytics-prod"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TASK_DEF_OLD = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/app-api:41"
TASK_DEF_NEW = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/app-api:42"


# One session: its loader caches the service model, so each client costs milliseconds.
SESSION = botocore.session.get_session()


def make_client() -> Any:
    return SESSION.create_client(
        "ecs", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


@pytest.fixture
def ecs() -> Iterator[tuple[Any, Stubber]]:
    client = make_client()
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def service_arn(name: str) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{name}"


def task_arn(number: int) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/{number:032x}"


def deployment(
    deployment_id: str, status: str, task_definition: str, rollout: str, reason: str, running: int
) -> dict[str, Any]:
    return {
        "id": deployment_id,
        "status": status,
        "taskDefinition": task_definition,
        "desiredCount": 2,
        "pendingCount": 0,
        "runningCount": running,
        "failedTasks": 0,
        "createdAt": NOW - timedelta(minutes=10),
        "updatedAt": NOW,
        "launchType": "FARGATE",
        "rolloutState": rollout,
        "rolloutStateReason": reason,
    }


def service(
    name: str, *, deployments: list[dict[str, Any]] | None = None, events: int = 0
) -> dict[str, Any]:
    return {
        "serviceArn": service_arn(name),
        "serviceName": name,
        "clusterArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}",
        "status": "ACTIVE",
        "desiredCount": 2,
        "runningCount": 2,
        "pendingCount": 0,
        "launchType": "FARGATE",
        "taskDefinition": TASK_DEF_NEW,
        "deployments": deployments
        if deployments is not None
        else [deployment("ecs-svc/1", "PRIMARY", TASK_DEF_NEW, "COMPLETED", "done", 2)],
        # The API lists events newest first; shuffle them to prove the probe sorts anyway.
        "events": [
            {
                "id": f"event-{minute}",
                "createdAt": NOW - timedelta(minutes=minute),
                "message": f"({name}) event {minute} minutes ago",
            }
            for minute in [3, 0, 7, 1, 5, 2, 6, 4][:events]
        ],
    }


def running_task(number: int, group: str, *, zone: str = "eu-west-1a") -> dict[str, Any]:
    return {
        "taskArn": task_arn(number),
        "clusterArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}",
        "taskDefinitionArn": TASK_DEF_NEW,
        "group": group,
        "lastStatus": "RUNNING",
        "desiredStatus": "RUNNING",
        "healthStatus": "HEALTHY",
        "availabilityZone": zone,
        "launchType": "FARGATE",
        "startedAt": NOW - timedelta(minutes=5),
        "containers": [
            {
                "containerArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:container/{number:032x}",
                "taskArn": task_arn(number),
                "name": "app",
                "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/app-api:1.4.2",
                "lastStatus": "RUNNING",
                "healthStatus": "HEALTHY",
            }
        ],
    }


def stopped_task(number: int, group: str) -> dict[str, Any]:
    task = running_task(number, group, zone="eu-west-1b")
    task.update(
        lastStatus="STOPPED",
        desiredStatus="STOPPED",
        healthStatus="UNHEALTHY",
        taskDefinitionArn=TASK_DEF_OLD,
        stoppedAt=NOW - timedelta(minutes=1),
        stopCode="EssentialContainerExited",
        stoppedReason="Essential container in task exited",
    )
    task["containers"][0].update(
        lastStatus="STOPPED",
        exitCode=137,
        healthStatus="UNHEALTHY",
        reason="OutOfMemoryError: Container killed due to memory usage",
    )
    return task


def expect_list(stubber: Stubber, status: str, arns: list[str], page_size: int = 100) -> None:
    """Queue ListTasks pages of `page_size` for `arns` (one empty page if there are none)."""
    pages = [arns[start : start + page_size] for start in range(0, len(arns), page_size)] or [[]]
    for index, page in enumerate(pages):
        params: dict[str, Any] = {"cluster": CLUSTER, "desiredStatus": status, "maxResults": 100}
        if index:
            params["nextToken"] = f"page-{index}"
        response: dict[str, Any] = {"taskArns": page}
        if index + 1 < len(pages):
            response["nextToken"] = f"page-{index + 1}"
        stubber.add_response("list_tasks", response, params)


def test_happy_path_groups_tasks_by_service_and_reads_fields_moto_lacks(ecs: Any) -> None:
    client, stubber = ecs
    services = [service("app-api", events=8), service("bullmq-workers")]
    running = [
        running_task(1, "service:app-api", zone="eu-west-1a"),
        running_task(2, "service:app-api", zone="eu-west-1b"),
        running_task(3, "service:bullmq-workers"),
        running_task(4, "family:one-off-migration"),  # not a service task: ignored
    ]
    stopped = [stopped_task(5, "service:app-api")]
    stubber.add_response(
        "describe_services",
        {"services": services, "failures": []},
        {"cluster": CLUSTER, "services": ["app-api", "bullmq-workers"]},
    )
    expect_list(stubber, "RUNNING", [task["taskArn"] for task in running])
    expect_list(stubber, "STOPPED", [task["taskArn"] for task in stopped])
    stubber.add_response(
        "describe_tasks",
        {"tasks": running + stopped, "failures": []},
        {"cluster": CLUSTER, "tasks": [task["taskArn"] for task in running + stopped]},
    )

    observed = observe_cluster(client, CLUSTER, ["app-api", "bullmq-workers"], max_workers=1)

    assert observed.cluster == CLUSTER
    assert observed.missing == {}
    assert observed.observed_at.tzinfo is not None
    api = observed.services["app-api"]
    assert (api.status, api.desired, api.running, api.pending) == ("ACTIVE", 2, 2, 0)
    assert api.task_definition == TASK_DEF_NEW
    assert api.events == tuple(f"(app-api) event {minute} minutes ago" for minute in range(5))
    assert [task.availability_zone for task in api.tasks] == ["eu-west-1a", "eu-west-1b"]
    assert {task.health for task in api.tasks} == {"HEALTHY"}
    assert api.tasks[0].id == f"{1:032x}"
    assert api.tasks[0].containers[0].image_tag == "1.4.2"
    assert api.tasks[0].started_at == NOW - timedelta(minutes=5)
    (dead,) = api.stopped_tasks
    assert (dead.stop_code, dead.stopped_reason) == (
        "EssentialContainerExited",
        "Essential container in task exited",
    )
    assert dead.stopped_at == NOW - timedelta(minutes=1)
    assert dead.health == "UNHEALTHY"
    assert dead.task_definition == TASK_DEF_OLD
    (container,) = dead.containers
    assert (container.exit_code, container.health, container.last_status) == (
        137,
        "UNHEALTHY",
        "STOPPED",
    )
    assert container.reason is not None and container.reason.startswith("OutOfMemoryError")
    workers = observed.services["bullmq-workers"]
    assert len(workers.tasks) == 1 and workers.stopped_tasks == ()
    assert workers.events == ()


def test_failed_rollout_with_two_deployments(ecs: Any) -> None:
    client, stubber = ecs
    deployments = [
        deployment("ecs-svc/2", "PRIMARY", TASK_DEF_NEW, "FAILED", "circuit breaker: 3 failed", 0),
        deployment("ecs-svc/1", "ACTIVE", TASK_DEF_OLD, "COMPLETED", "done", 2),
    ]
    stubber.add_response(
        "describe_services",
        {"services": [service("app-api", deployments=deployments)]},
        {"cluster": CLUSTER, "services": ["app-api"]},
    )
    expect_list(stubber, "RUNNING", [])
    expect_list(stubber, "STOPPED", [])

    observed = observe_cluster(client, CLUSTER, ["app-api"], max_workers=1)

    primary, previous = observed.services["app-api"].deployments
    assert (primary.status, primary.rollout_state, primary.running) == ("PRIMARY", "FAILED", 0)
    assert primary.rollout_reason == "circuit breaker: 3 failed"
    assert primary.task_definition == TASK_DEF_NEW
    assert (previous.status, previous.rollout_state, previous.desired) == ("ACTIVE", "COMPLETED", 2)


def test_describe_services_failures_become_missing(ecs: Any) -> None:
    client, stubber = ecs
    stubber.add_response(
        "describe_services",
        {
            "services": [service("app-api")],
            "failures": [{"arn": service_arn("app-apii"), "reason": "MISSING"}],
        },
        {"cluster": CLUSTER, "services": ["app-api", "app-apii"]},
    )
    expect_list(stubber, "RUNNING", [])
    expect_list(stubber, "STOPPED", [])

    observed = observe_cluster(client, CLUSTER, ["app-api", "app-apii"], max_workers=1)

    assert set(observed.services) == {"app-api"}
    assert observed.missing == {"app-apii": "MISSING"}


def test_tasks_without_optional_fields_give_unknown_and_none(ecs: Any) -> None:
    """What moto (and older agents) answer: no healthStatus, AZ, startedAt, image."""
    client, stubber = ecs
    bare_task = {
        "taskArn": task_arn(9),
        "group": "service:app-api",
        "lastStatus": "PROVISIONING",
        "desiredStatus": "RUNNING",
        "taskDefinitionArn": TASK_DEF_NEW,
        "containers": [{"name": "app", "lastStatus": "PENDING"}],
    }
    stubber.add_response("describe_services", {"services": [service("app-api")]})
    expect_list(stubber, "RUNNING", [task_arn(9)])
    expect_list(stubber, "STOPPED", [])
    stubber.add_response("describe_tasks", {"tasks": [bare_task]})

    (task,) = observe_cluster(client, CLUSTER, ["app-api"], max_workers=1).services["app-api"].tasks

    assert (task.health, task.availability_zone, task.started_at, task.stop_code) == (
        "UNKNOWN",
        None,
        None,
        None,
    )
    assert task.containers == (Container("app", "", "PENDING", None, None, None),)
    assert task.containers[0].image_tag is None


def test_batches_23_services_into_3_calls_and_250_tasks_into_3(ecs: Any) -> None:
    client, stubber = ecs
    names = [f"svc-{index:02d}" for index in range(23)]
    for chunk in (names[0:10], names[10:20], names[20:23]):
        stubber.add_response(
            "describe_services",
            {"services": [service(name) for name in chunk]},
            {"cluster": CLUSTER, "services": chunk},
        )
    tasks = [running_task(index, f"service:{names[index % 23]}") for index in range(250)]
    arns = [task["taskArn"] for task in tasks]
    expect_list(stubber, "RUNNING", arns)  # 3 pages of at most 100
    expect_list(stubber, "STOPPED", [])
    for start in (0, 100, 200):
        stubber.add_response(
            "describe_tasks",
            {"tasks": tasks[start : start + 100]},
            {"cluster": CLUSTER, "tasks": arns[start : start + 100]},
        )

    observed = observe_cluster(client, CLUSTER, names, max_workers=1)

    assert len(observed.services) == 23
    assert sum(len(svc.tasks) for svc in observed.services.values()) == 250
    assert len(observed.services["svc-00"].tasks) == 11  # indexes 0, 23, ..., 230


def test_services_can_be_named_by_arn(ecs: Any) -> None:
    client, stubber = ecs
    stubber.add_response("describe_services", {"services": [service("app-api")]})
    expect_list(stubber, "RUNNING", [])
    expect_list(stubber, "STOPPED", [])

    observed = observe_cluster(client, CLUSTER, [service_arn("app-api")], max_workers=1)

    assert observed.services[service_arn("app-api")].name == "app-api"


def test_no_services_means_no_calls(ecs: Any) -> None:
    client, _ = ecs  # any call would fail: nothing is queued
    assert observe_cluster(client, CLUSTER, []).services == {}


def test_access_denied_is_a_probe_error_naming_the_operation(ecs: Any) -> None:
    client, stubber = ecs
    stubber.add_client_error(
        "describe_services",
        service_error_code="AccessDeniedException",
        service_message="User: arn:aws:sts::123456789012:assumed-role/ci/verify is not authorized "
        "to perform: ecs:DescribeServices",
        http_status_code=400,
    )
    # The listings are independent calls: they are made (concurrently, in production) all the same.
    expect_list(stubber, "RUNNING", [])
    expect_list(stubber, "STOPPED", [])

    with pytest.raises(ProbeError) as raised:
        observe_cluster(client, CLUSTER, ["app-api"], max_workers=1)

    assert raised.value.target == f"ecs:DescribeServices cluster={CLUSTER}"
    assert raised.value.cause.startswith("AccessDeniedException: User: arn:aws:sts::")
    assert "\n" not in str(raised.value)


def test_throttling_reports_the_attempts_botocore_made(ecs: Any) -> None:
    client, stubber = ecs
    stubber.add_response("describe_services", {"services": [service("app-api")]})
    stubber.add_client_error(
        "list_tasks",
        service_error_code="ThrottlingException",
        service_message="Rate exceeded",
        http_status_code=400,
        response_meta={"RetryAttempts": 4},
    )

    with pytest.raises(ProbeError) as raised:
        observe_cluster(client, CLUSTER, ["app-api"], max_workers=1)

    assert str(raised.value) == (
        f"ecs:ListTasks cluster={CLUSTER} desiredStatus=RUNNING: "
        "ThrottlingException: Rate exceeded (after 5 attempts)"
    )


def test_a_missing_cluster_is_an_observation_not_an_error() -> None:
    client = make_client()
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "describe_services", "ClusterNotFoundException", "Cluster not found.", 400
        )
        observed = observe_cluster(client, CLUSTER, ["app-api"], max_workers=1)
    assert observed.cluster_missing == "ClusterNotFoundException: Cluster not found."
    assert observed.services == {}


def test_an_answer_about_another_cluster_is_an_error(ecs: Any) -> None:
    client, stubber = ecs
    other = service("app-api")
    other["clusterArn"] = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/mobilytics-staging"
    stubber.add_response(
        "describe_services",
        {"services": [other], "failures": []},
        {"cluster": CLUSTER, "services": ["app-api"]},
    )
    expect_list(stubber, "RUNNING", [])
    expect_list(stubber, "STOPPED", [])
    with pytest.raises(ProbeError) as raised:
        observe_cluster(client, CLUSTER, ["app-api"], max_workers=1)
    assert raised.value.cause == (
        "the answer is about cluster 'mobilytics-staging', not 'mobilytics-prod'"
    )


def test_without_a_release_the_newest_active_revision_is_described(ecs: Any) -> None:
    client, stubber = ecs
    stubber.add_response(
        "describe_services",
        {"services": [service("app-api")], "failures": []},
        {"cluster": CLUSTER, "services": ["app-api"]},
    )
    expect_list(stubber, "RUNNING", [])
    expect_list(stubber, "STOPPED", [])
    newest = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/app-api:43"
    image = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/app-api:1.5.0"
    for name, arn in (("app-api", newest), (TASK_DEF_NEW, TASK_DEF_NEW)):
        stubber.add_response(
            "describe_task_definition",
            {
                "taskDefinition": {
                    "taskDefinitionArn": arn,
                    "family": "app-api",
                    "revision": int(arn.rsplit(":", 1)[1]),
                    "status": "ACTIVE",
                    "containerDefinitions": [{"name": "app-api", "image": image}],
                }
            },
            {"taskDefinition": name},
        )
    observed = observe_cluster(client, CLUSTER, ["app-api"], revisions=True, max_workers=1)
    assert observed.newest is not None and observed.newest["app-api"].arn == newest
    assert observed.described is not None and set(observed.described) == {newest, TASK_DEF_NEW}
    assert observed.described[TASK_DEF_NEW].images == {"app-api": image}


@pytest.mark.parametrize(
    ("image", "tag"),
    [
        ("app-api:1.4.2", "1.4.2"),
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app-api:release-7", "release-7"),
        ("registry.local:5000/team/app-api:v2", "v2"),
        ("registry.local:5000/team/app-api", None),
        ("app-api", None),
        ("app-api@sha256:" + "a" * 64, None),
        ("app-api:1.4.2@sha256:" + "b" * 64, "1.4.2"),
        ("registry.local:5000/app-api@sha256:" + "c" * 64, None),
        ("", None),
    ],
)
def test_image_tag(image: str, tag: str | None) -> None:
    assert Container("app", image, "RUNNING", None, None, None).image_tag == tag


# --- the concurrent path: an order-independent responder with latency -------------------------


class ScriptedEcs:
    """Answers a real ECS client's calls from `answer(operation, params)`, slowly, counting them."""

    def __init__(
        self, answer: Callable[[str, dict[str, Any]], dict[str, Any]], latency_s: float = 0.0
    ) -> None:
        self.client = make_client()
        self.calls: Counter[str] = Counter()
        self._answer = answer
        self._latency_s = latency_s
        self._lock = threading.Lock()
        events = self.client.meta.events
        events.register("before-parameter-build.ecs.*", self._remember_params)
        events.register("before-call.ecs.*", self._respond)

    def _remember_params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["scripted_params"] = dict(params)

    def _respond(self, model: Any, context: dict[str, Any], **_: Any) -> tuple[Any, Any]:
        with self._lock:
            self.calls[model.name] += 1
        time.sleep(self._latency_s)
        return AWSResponse(None, 200, {}, None), self._answer(
            model.name, context["scripted_params"]
        )


def cluster_answer(tasks_per_service: int) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    """A cluster where every described service has `tasks_per_service` running tasks (max 40)."""
    registry: dict[str, dict[str, Any]] = {}

    def answer(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation == "DescribeServices":
            for number, name in enumerate(params["services"]):
                for index in range(tasks_per_service):
                    task = running_task(len(registry) + 1000 * number + index, f"service:{name}")
                    registry[task["taskArn"]] = task
            return {"services": [service(name) for name in params["services"]]}
        if operation == "ListTasks":
            return {"taskArns": []}
        if operation == "DescribeTasks":
            return {"tasks": [registry[arn] for arn in params["tasks"] if arn in registry]}
        raise AssertionError(operation)

    return answer


@pytest.mark.parametrize("service_count", [5, 25])
def test_call_count_grows_only_with_describe_services_batches(service_count: int) -> None:
    scripted = ScriptedEcs(cluster_answer(tasks_per_service=0))
    names = [f"svc-{index}" for index in range(service_count)]

    observe_cluster(scripted.client, CLUSTER, names)

    assert scripted.calls == Counter({"DescribeServices": -(-service_count // 10), "ListTasks": 2})


def test_concurrent_wall_time_is_about_two_round_trips() -> None:
    latency_s = 0.4
    running = [running_task(index, f"service:svc-{index % 25}") for index in range(250)]
    by_arn = {task["taskArn"]: task for task in running}

    def answer(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation == "DescribeServices":
            return {"services": [service(name) for name in params["services"]]}
        if operation == "ListTasks":
            arns = list(by_arn) if params["desiredStatus"] == "RUNNING" else []
            return {"taskArns": arns}  # one page: pagination is sequential by nature
        return {"tasks": [by_arn[arn] for arn in params["tasks"]]}

    scripted = ScriptedEcs(answer, latency_s=latency_s)
    started = time.perf_counter()
    observed = observe_cluster(scripted.client, CLUSTER, [f"svc-{index}" for index in range(25)])
    elapsed = time.perf_counter() - started

    # 3 DescribeServices + 2 ListTasks, then 3 DescribeTasks: 8 calls, 2 rounds.
    assert sum(scripted.calls.values()) == 8
    assert sum(len(svc.tasks) for svc in observed.services.values()) == 250
    assert elapsed < 3 * latency_s, f"{elapsed:.2f} s is more than two round trips"
