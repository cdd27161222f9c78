"""The seed: what a fresh sandbox answers, shaped like the platform plan."""

from __future__ import annotations

import time

from tests.sandbox.helpers import CLUSTER, Aws, rev
from verify.sandbox import (
    SandboxState,
    spec,
)


def test_services_are_stable_with_real_counts_and_deployments(aws: Aws) -> None:
    services = aws.ecs.describe_services(cluster=CLUSTER, services=list(spec.SERVICES))["services"]
    assert [s["serviceName"] for s in services] == list(spec.SERVICES)
    for svc in services:
        assert (svc["desiredCount"], svc["runningCount"], svc["pendingCount"]) == (2, 2, 0)
        assert svc["launchType"] == "FARGATE"
        assert rev(svc["taskDefinition"]) == 2
        [deployment] = svc["deployments"]
        assert deployment["status"] == "PRIMARY"
        assert deployment["taskDefinition"] == svc["taskDefinition"]
        assert deployment["rolloutState"] == "COMPLETED"
        assert deployment["rolloutStateReason"] == f"ECS deployment {deployment['id']} completed."
        assert (deployment["runningCount"], deployment["pendingCount"]) == (2, 0)
        assert deployment["failedTasks"] == 0
        assert deployment["createdAt"] <= deployment["updatedAt"]
        assert svc["events"][0]["message"].endswith("has reached a steady state.")


def test_task_definitions_carry_previous_and_current_release(
    aws: Aws, sandbox: SandboxState
) -> None:
    for family in spec.SERVICES:
        for revision, release in ((1, sandbox.previous_release), (2, sandbox.release)):
            td = aws.ecs.describe_task_definition(taskDefinition=f"{family}:{revision}")
            image = td["taskDefinition"]["containerDefinitions"][0]["image"]
            assert image == spec.image(family, release)


def test_tasks_are_running_healthy_one_per_az(aws: Aws, sandbox: SandboxState) -> None:
    running = aws.ecs.list_tasks(cluster=CLUSTER, desiredStatus="RUNNING")["taskArns"]
    assert aws.ecs.list_tasks(cluster=CLUSTER, desiredStatus="STOPPED")["taskArns"] == []
    tasks = aws.ecs.describe_tasks(cluster=CLUSTER, tasks=running)["tasks"]
    for name in spec.SERVICES:
        mine = [t for t in tasks if t["group"] == f"service:{name}"]
        assert sorted(t["availabilityZone"] for t in mine) == list(spec.AZS)
        for task in mine:
            assert (task["lastStatus"], task["healthStatus"]) == ("RUNNING", "HEALTHY")
            assert task["startedAt"].timestamp() < time.time()
            assert "stopCode" not in task and "stoppedAt" not in task
            [container] = task["containers"]
            assert container["image"] == spec.image(name, sandbox.release)
            assert container["lastStatus"] == "RUNNING"
            assert "exitCode" not in container


def test_list_tasks_pages_and_filters_by_service(aws: Aws) -> None:
    pages = list(
        aws.ecs.get_paginator("list_tasks").paginate(
            cluster=CLUSTER, desiredStatus="RUNNING", PaginationConfig={"PageSize": 1}
        )
    )
    assert len(pages) == 4
    assert len({arn for page in pages for arn in page["taskArns"]}) == 4
    only_api = aws.ecs.list_tasks(cluster=CLUSTER, serviceName=spec.API_SERVICE)["taskArns"]
    assert len(only_api) == 2


def test_targets_are_healthy_in_two_azs(aws: Aws) -> None:
    tg = aws.elbv2.describe_target_groups(Names=[spec.TARGET_GROUP])["TargetGroups"][0]
    assert (tg["TargetType"], tg["Port"]) == ("ip", 3000)
    health = aws.elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])
    states = {
        d["Target"]["Id"]: d["TargetHealth"]["State"] for d in health["TargetHealthDescriptions"]
    }
    assert states == dict.fromkeys(spec.TARGET_IPS.values(), "healthy")
    enis = aws.ec2.describe_network_interfaces(
        Filters=[{"Name": "addresses.private-ip-address", "Values": list(states)}]
    )["NetworkInterfaces"]
    assert {e["PrivateIpAddress"]: e["AvailabilityZone"] for e in enis} == {
        ip: az for az, ip in spec.TARGET_IPS.items()
    }


def test_secrets_hold_the_generated_values(aws: Aws, sandbox: SandboxState) -> None:
    assert set(spec.SECRET_NAMES) <= set(sandbox.secrets)
    for name in spec.SECRET_NAMES:
        assert aws.secretsmanager.describe_secret(SecretId=name)["Name"] == name
        value = aws.secretsmanager.get_secret_value(SecretId=name)["SecretString"]
        assert value == sandbox.secrets[name]
