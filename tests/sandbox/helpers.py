"""What the sandbox tests share: boto3 clients on the overlay and a normalised picture of it."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from verify.sandbox import (
    SandboxState,
    spec,
)

CLUSTER = spec.CLUSTER
REDIS_AUTH = spec.REDIS_AUTH_SECRET
Obs = dict[str, Any]
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Aws:
    """boto3 clients on the sandbox's AWS endpoint (the overlay)."""

    ecs: Any
    elbv2: Any
    ec2: Any
    cloudwatch: Any
    secretsmanager: Any


def http_get(url: str, timeout: float = 5.0) -> tuple[int | str, Any]:
    """(status, JSON body without the dependency report), or ("refused", None)."""
    try:
        with _NO_PROXY.open(url, timeout=timeout) as response:
            return response.status, _body(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, _body(exc.read())
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ConnectionRefusedError):
            return "refused", None
        raise


def _body(raw: bytes) -> Any:
    """The JSON body, or the first line of a text one."""
    try:
        return _without_checks(json.loads(raw))
    except ValueError:
        return raw.decode(errors="replace").splitlines()[0]


def _without_checks(body: Any) -> Any:
    """/health also reports each dependency (Redis, PostgreSQL): other tests look at those."""
    return {k: v for k, v in body.items() if k != "checks"} if isinstance(body, dict) else body


def rev(arn: str) -> int:
    return int(arn.rsplit(":", 1)[1])


def revision(arn: str) -> str:
    """The seed's two revisions by name; any later one (a failed rollout's) is "new", so the
    picture does not depend on how many rollouts earlier tests failed."""
    return {1: "previous", 2: "current"}.get(rev(arn), "new")


def tag(image: str) -> str:
    return image.rsplit(":", 1)[1]


def observe(aws: Aws, state: SandboxState) -> Obs:
    """A normalised picture of everything the checks look at (no ids, no timestamps)."""
    obs: Obs = {}
    services = aws.ecs.describe_services(cluster=CLUSTER, services=list(spec.SERVICES))
    for svc in services["services"]:
        obs[f"service:{svc['serviceName']}"] = {
            "running": svc["runningCount"],
            "pending": svc["pendingCount"],
            "desired": svc["desiredCount"],
            "rev": revision(svc["taskDefinition"]),
            "deployments": [
                (d["status"], d["rolloutState"], d["runningCount"], revision(d["taskDefinition"]))
                for d in svc["deployments"]
            ],
        }
    arns = [
        arn
        for status in ("RUNNING", "STOPPED")
        for page in aws.ecs.get_paginator("list_tasks").paginate(
            cluster=CLUSTER, desiredStatus=status
        )
        for arn in page["taskArns"]
    ]
    tasks = aws.ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"] if arns else []
    for name in spec.SERVICES:
        obs[f"tasks:{name}"] = sorted(
            (
                t["lastStatus"],
                t["availabilityZone"],
                t["healthStatus"],
                tag(t["containers"][0]["image"]),
                t.get("stopCode"),
                t["containers"][0].get("exitCode"),
            )
            for t in tasks
            if t["group"] == f"service:{name}"
        )
    tg = aws.elbv2.describe_target_groups(Names=[spec.TARGET_GROUP])["TargetGroups"][0]
    health = aws.elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])
    obs["targets"] = sorted(
        (d["Target"]["Id"], d["TargetHealth"]["State"], d["TargetHealth"].get("Reason"))
        for d in health["TargetHealthDescriptions"]
    )
    alarms = aws.cloudwatch.describe_alarms(
        AlarmNamePrefix=f"{spec.PREFIX}-", AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    )
    obs["alarms"] = {a["AlarmName"]: a["StateValue"] for a in alarms["MetricAlarms"]}
    obs["secrets"] = sorted(s["Name"] for s in aws.secretsmanager.list_secrets()["SecretList"])
    started = time.monotonic()
    obs["health"] = http_get(f"{state.endpoints['api']}/health")
    obs["health_slow"] = time.monotonic() - started >= 1.5
    obs["version"] = http_get(f"{state.endpoints['api']}/version")
    return obs
