"""ECS answers as the real service gives them: counts, deployments, events, task placement."""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from typing import TYPE_CHECKING, Any

from verify.sandbox import spec

if TYPE_CHECKING:
    from verify.sandbox.taskmeta import TaskMeta
    from verify.sandbox.world import World

JSON = dict[str, Any]
CIRCUIT_BREAKER = {
    "deploymentCircuitBreaker": {"enable": True, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
}


def list_tasks_request(body: JSON) -> JSON:
    """What moto gets: the overlay pages and filters by service itself (moto does neither)."""
    forwarded = {
        k: v for k, v in body.items() if k not in ("nextToken", "maxResults", "serviceName")
    }
    forwarded.setdefault("desiredStatus", "RUNNING")  # the API's default; moto lists every task
    return forwarded


def list_tasks(world: World, request: JSON, response: JSON) -> JSON:
    """Drop forgotten tasks, filter by serviceName, paginate with maxResults/nextToken."""
    service = request.get("serviceName")
    arns = []
    for arn in response.get("taskArns", []):
        meta = world.task(arn)
        if meta is not None and meta.forgotten:
            continue
        if service is not None and (meta is None or meta.service != service.rsplit("/", 1)[-1]):
            continue
        arns.append(arn)
    start = _decode_token(request.get("nextToken"))
    size = max(1, min(int(request.get("maxResults") or 100), 100))
    page: JSON = {"taskArns": arns[start : start + size]}
    if start + size < len(arns):
        page["nextToken"] = _encode_token(start + size)
    return page


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["offset"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        return 0


def describe_tasks(world: World, request: JSON, response: JSON) -> JSON:
    """Add placement, health, timing and stop details; forgotten tasks become MISSING failures."""
    tasks, failures = [], list(response.get("failures", []))
    for task in response.get("tasks", []):
        meta = world.task(task.get("taskArn", ""))
        if meta is not None and meta.forgotten:
            failures.append({"arn": meta.arn, "reason": "MISSING"})
            continue
        if meta is None:
            _fill_unknown_task(world, task)
        else:
            _fill_task(world, task, meta)
        tasks.append(task)
    return {**response, "tasks": tasks, "failures": failures}


def _attachment(task: JSON) -> tuple[str | None, dict[str, str]]:
    for attachment in task.get("attachments", []):
        if attachment.get("type") == "ElasticNetworkInterface":
            details = {d["name"]: d["value"] for d in attachment.get("details", [])}
            return attachment.get("id"), details
    return None, {}


def _fill_unknown_task(world: World, task: JSON) -> None:
    _, details = _attachment(task)
    az = world.inv.az_of_subnet(details.get("subnetId", ""))
    if az is not None:
        task.setdefault("availabilityZone", az)
    task.setdefault("healthStatus", "UNKNOWN")


def _fill_task(world: World, task: JSON, meta: TaskMeta) -> None:
    cpu, memory = spec.TASK_SIZES.get(meta.service, ("256", "512"))
    health = world.task_health(meta)
    created = meta.started_at - 30
    status = "RUNNING" if meta.running else "STOPPED"
    task.update(
        {
            "group": f"service:{meta.service}",
            "availabilityZone": meta.az,
            "healthStatus": health,
            "lastStatus": status,
            "desiredStatus": status,
            "cpu": cpu,
            "memory": memory,
            "createdAt": created,
            "pullStartedAt": created + 6,
            "pullStoppedAt": created + 14,
            "startedAt": meta.started_at,
            "connectivity": "CONNECTED",
            "connectivityAt": created + 4,
            "launchType": "FARGATE",
            "platformVersion": spec.PLATFORM_VERSION,
            "platformFamily": "Linux",
            "version": 3 if meta.running else 5,
            "ephemeralStorage": {"sizeInGiB": 20},
        }
    )
    if meta.stopped_at is not None:
        task.update(
            {
                "stoppingAt": meta.stopped_at - 2,
                "executionStoppedAt": meta.stopped_at - 1,
                "stoppedAt": meta.stopped_at,
                "stopCode": meta.stop_code,
                "stoppedReason": meta.stopped_reason,
            }
        )
    attachment_id, details = _attachment(task)
    for container in task.get("containers", []):
        suffix = str(container.get("containerArn", "")).rsplit("/", 1)[-1] or str(uuid.uuid4())
        container.update(
            {
                "containerArn": (
                    f"arn:aws:ecs:{spec.REGION}:{spec.ACCOUNT_ID}:container/"
                    f"{spec.CLUSTER}/{meta.id}/{suffix}"
                ),
                "taskArn": meta.arn,
                "image": container.get("image") or meta.image,
                "lastStatus": status,
                "healthStatus": health,
                "runtimeId": f"{meta.id}-{abs(hash(suffix)) % 10**10:010d}",
            }
        )
        if attachment_id and "privateIPv4Address" in details:
            container["networkInterfaces"] = [
                {"attachmentId": attachment_id, "privateIpv4Address": details["privateIPv4Address"]}
            ]
        if meta.running or meta.exit_code is None:
            container.pop("exitCode", None)  # no exit code until (unless) the container ran
        else:
            container["exitCode"] = meta.exit_code


def describe_services(world: World, request: JSON, response: JSON) -> JSON:
    """Real counts from the tasks, deployments[] and events[] for the services the seed made."""
    world.deploys.tick()  # a rollout that converged since the last tick shows at once
    for service in response.get("services", []):
        name = service.get("serviceName")
        if name not in spec.SERVICES:
            continue
        service["runningCount"] = len(world.running_tasks(name))
        service["pendingCount"] = 0
        service["deployments"] = deployments(
            world, name, int(service.get("desiredCount", 0)), service.get("networkConfiguration")
        )
        service["events"] = events(world, name)
        service["deploymentConfiguration"] = (
            service.get("deploymentConfiguration") or CIRCUIT_BREAKER
        )
        service.setdefault("createdAt", world.seeded_at - 120)
        service.setdefault("platformFamily", "Linux")
        service["platformVersion"] = spec.PLATFORM_VERSION
        service.setdefault("createdBy", f"arn:aws:iam::{spec.ACCOUNT_ID}:role/{spec.PREFIX}-deploy")
        if name == spec.API_SERVICE:
            service.setdefault("healthCheckGracePeriodSeconds", 60)
    return response


def deployments(world: World, service: str, desired: int, network: Any) -> list[JSON]:
    """The service's deployments[], PRIMARY first."""
    with world.lock:
        failed = world.failed_td if service == spec.API_SERVICE else None
        pending = world.deploys.pending.get(service)
        if pending is not None and failed is None:
            return [
                _deployment(world, service, pending.td, "PRIMARY", desired, network, rolling=True),
                _deployment(world, service, world.tasks_td(service), "ACTIVE", desired, network),
            ]
        if failed is None:
            return [
                _deployment(world, service, world.service_td(service), "PRIMARY", desired, network)
            ]
        return [
            _deployment(world, service, failed, "PRIMARY", desired, network, failed=True),
            _deployment(world, service, world.tasks_td(service), "ACTIVE", desired, network),
        ]


def _deployment(
    world: World,
    service: str,
    td: str,
    status: str,
    desired: int,
    network: Any,
    failed: bool = False,
    rolling: bool = False,
) -> JSON:
    rec = world.deployment(service, td)
    if rolling:  # the new tasks have not started yet: ECS says IN_PROGRESS
        return {
            **_deployment(world, service, td, status, desired, network),
            "runningCount": 0,
            "pendingCount": desired,
            "rolloutState": "IN_PROGRESS",
            "rolloutStateReason": "ECS deployment in progress.",
            "updatedAt": time.time(),
        }
    return {
        "id": rec.id,
        "status": status,
        "taskDefinition": td,
        "desiredCount": desired,
        "pendingCount": 0,
        "runningCount": len(world.running_tasks(service, td)),
        "failedTasks": 3 if failed else 0,
        "createdAt": rec.created_at,
        "updatedAt": min(rec.created_at + (600 if failed else 75), time.time()),
        "launchType": "FARGATE",
        "platformVersion": spec.PLATFORM_VERSION,
        "platformFamily": "Linux",
        "networkConfiguration": network,
        "rolloutState": "FAILED" if failed else "COMPLETED",
        "rolloutStateReason": (
            "ECS deployment circuit breaker: tasks failed to start."
            if failed
            else f"ECS deployment {rec.id} completed."
        ),
    }


def events(world: World, service: str) -> list[JSON]:
    """Service events, newest first, worded as ECS words them."""
    with world.lock:
        found: list[tuple[float, str]] = [
            (t.stopped_at, f"(service {service}) has stopped 1 running tasks: (task {t.id}).")
            for t in world.tasks.values()
            if t.service == service and t.stopped_at is not None and not t.forgotten
        ]
        failed = world.failed_td if service == spec.API_SERVICE else None
        if failed is not None:
            rec = world.deployment(service, failed)
            found.append(
                (
                    min(rec.created_at + 1, time.time()),
                    f"(service {service}) (deployment {rec.id}) deployment "
                    "failed: tasks failed to start.",
                )
            )
        rec = world.deployment(service, world.tasks_td(service))
        found.append(
            (
                min(rec.created_at + 75, time.time()),  # never an event from the future
                f"(service {service}) (deployment {rec.id}) deployment completed.",
            )
        )
        found.append((world.steady_at(service), f"(service {service}) has reached a steady state."))
    found.sort(key=lambda e: e[0], reverse=True)
    return [
        {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{service}{ts}{msg}")),
            "createdAt": ts,
            "message": msg,
        }
        for ts, msg in found
    ]


def describe_task_definition_request(world: World, body: JSON) -> JSON:
    """A bare family means its newest ACTIVE revision (moto answers the newest of any status)."""
    name = str(body.get("taskDefinition", ""))
    if ":" in name.rsplit("/", 1)[-1]:
        return body
    listed = world.clients.ecs.list_task_definitions(
        familyPrefix=name.rsplit("/", 1)[-1], status="ACTIVE", sort="DESC"
    )["taskDefinitionArns"]
    family = name.rsplit("/", 1)[-1]
    exact = [arn for arn in listed if arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family]
    newest = max(exact, key=lambda arn: int(arn.rsplit(":", 1)[1]), default=None)
    return {**body, "taskDefinition": newest} if newest else body
