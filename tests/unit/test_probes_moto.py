"""End to end: every AWS probe reads what boto3 seeded into a moto server on loopback.

Where moto lacks a field (task health and AZ, stop codes, target AZ, ...) the probe must answer
None / UNKNOWN rather than crash. Names and the region are this module's own, so other users of
moto's in-process state see nothing of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from verify.probes.aws.cloudwatch import observe_alarms
from verify.probes.aws.ecs import observe_cluster
from verify.probes.aws.elb import observe_target_groups
from verify.probes.aws.secrets import observe_parameters, observe_secret

REGION = "eu-west-3"
CLUSTER = "probe-e2e"
PREFIX = "probe-e2e-"
IMAGE = "registry.local:5000/app-api:1.4.2"
ECS_TASK = "ecs::task"


@dataclass
class Seeded:
    clients: dict[str, Any]
    ip_group_arn: str
    instance_id: str


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server_module = pytest.importorskip("moto.server")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    # Keep tasks where they are put: moto otherwise walks them to STOPPED on every describe.
    pinned = {"model_name": ECS_TASK, "transition": {"progression": "manual", "times": 10**6}}
    httpx.post(f"{url}/moto-api/state-manager/set-transition", json=pinned).raise_for_status()
    try:
        yield url
    finally:
        httpx.post(f"{url}/moto-api/state-manager/unset-transition", json={"model_name": ECS_TASK})
        server.stop()


@pytest.fixture(scope="module")
def seeded(moto_url: str) -> Seeded:
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    config = Config(retries={"max_attempts": 1})
    clients = {
        name: session.client(name, endpoint_url=moto_url, config=config)  # type: ignore[call-overload]
        for name in ["ecs", "ec2", "elbv2", "cloudwatch", "secretsmanager", "ssm"]
    }
    seed_ecs(clients["ecs"])
    ip_group_arn, instance_id = seed_load_balancer(clients["ec2"], clients["elbv2"])
    seed_alarms(clients["cloudwatch"])
    seed_secrets(clients["secretsmanager"], clients["ssm"])
    return Seeded(clients, ip_group_arn, instance_id)


def seed_ecs(ecs: Any) -> None:
    ecs.create_cluster(clusterName=CLUSTER)
    task_definition = ecs.register_task_definition(
        family="app-api",
        containerDefinitions=[{"name": "app", "image": IMAGE, "memory": 512}],  # moto needs memory
    )["taskDefinition"]["taskDefinitionArn"]
    for name, desired in [("app-api", 2), ("bullmq-workers", 1)]:
        ecs.create_service(
            cluster=CLUSTER, serviceName=name, taskDefinition=task_definition, desiredCount=desired
        )
    # moto services never start tasks: start them as ECS would, with the service's group.
    for group, count in [
        ("service:app-api", 2),
        ("service:bullmq-workers", 2),
        ("family:migrate", 1),
    ]:
        ecs.run_task(
            cluster=CLUSTER,
            taskDefinition=task_definition,
            count=count,
            group=group,
            launchType="FARGATE",
        )
    workers = ecs.list_tasks(cluster=CLUSTER, desiredStatus="RUNNING")["taskArns"]
    described = ecs.describe_tasks(cluster=CLUSTER, tasks=workers)["tasks"]
    crashed = next(task for task in described if task["group"] == "service:bullmq-workers")
    ecs.stop_task(cluster=CLUSTER, task=crashed["taskArn"], reason="Essential container exited")


def seed_load_balancer(ec2: Any, elbv2: Any) -> tuple[str, str]:
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24", AvailabilityZone=f"{REGION}{z}")[
            "Subnet"
        ]["SubnetId"]
        for n, z in [(1, "a"), (2, "b")]
    ]
    ec2.create_network_interface(SubnetId=subnets[0], PrivateIpAddress="10.0.1.10")
    ec2.create_network_interface(SubnetId=subnets[1], PrivateIpAddress="10.0.2.20")
    group = ec2.create_security_group(GroupName="alb", Description="alb", VpcId=vpc)["GroupId"]
    balancer = elbv2.create_load_balancer(
        Name=f"{PREFIX}alb", Subnets=subnets, SecurityGroups=[group]
    )["LoadBalancers"][0]["LoadBalancerArn"]
    ip_group = elbv2.create_target_group(
        Name=f"{PREFIX}api", Protocol="HTTP", Port=3000, VpcId=vpc, TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    instance_group = elbv2.create_target_group(
        Name=f"{PREFIX}legacy", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance"
    )["TargetGroups"][0]["TargetGroupArn"]
    for target_group in (ip_group, instance_group):
        elbv2.create_listener(
            LoadBalancerArn=balancer,
            Protocol="HTTP",
            Port=80 if target_group == ip_group else 8080,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group}],
        )
    # 10.0.3.30 has no ENI in the VPC: its AZ stays unknown.
    elbv2.register_targets(
        TargetGroupArn=ip_group,
        Targets=[{"Id": ip, "Port": 3000} for ip in ["10.0.1.10", "10.0.2.20", "10.0.3.30"]],
    )
    # moto does not validate AMI ids by default (and listing its images costs over a second).
    instance = ec2.run_instances(
        ImageId="ami-0123456789abcdef0", MinCount=1, MaxCount=1, SubnetId=subnets[1]
    )["Instances"][0]["InstanceId"]
    elbv2.register_targets(TargetGroupArn=instance_group, Targets=[{"Id": instance, "Port": 80}])
    return ip_group, instance


def seed_alarms(cloudwatch: Any) -> None:
    for name in [f"{PREFIX}api-5xx", f"{PREFIX}api-latency", "someone-else-cpu"]:
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            MetricName="HTTPCode_Target_5XX_Count",
            Namespace="AWS/ApplicationELB",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=10.0,
            ComparisonOperator="GreaterThanThreshold",
        )
    # moto does not implement PutCompositeAlarm (500): composite alarms are Stubber-tested.
    cloudwatch.set_alarm_state(
        AlarmName=f"{PREFIX}api-5xx", StateValue="ALARM", StateReason="Threshold Crossed"
    )


def seed_secrets(secretsmanager: Any, ssm: Any) -> None:
    secretsmanager.create_secret(Name="/mobilytics/e2e/database-url", SecretString="postgres://x")
    secretsmanager.create_secret(Name="/mobilytics/e2e/retired", SecretString="old")
    secretsmanager.delete_secret(SecretId="/mobilytics/e2e/retired", RecoveryWindowInDays=7)
    ssm.put_parameter(Name="/mobilytics/e2e/redis-auth", Value="pw", Type="SecureString")


def test_cluster(seeded: Seeded) -> None:
    observed = observe_cluster(
        seeded.clients["ecs"], CLUSTER, ["app-api", "bullmq-workers", "ghost"]
    )

    assert set(observed.services) == {"app-api", "bullmq-workers"}
    assert observed.missing == {"ghost": "MISSING"}
    api = observed.services["app-api"]
    assert (api.status, api.desired) == ("ACTIVE", 2)
    assert len(api.tasks) == 2 and api.stopped_tasks == ()
    for task in api.tasks:
        # moto gives no task health or AZ: UNKNOWN and None, not a crash.
        assert (task.health, task.availability_zone, task.desired_status) == (
            "UNKNOWN",
            None,
            "RUNNING",
        )
        assert task.containers[0].image_tag == "1.4.2"
    assert api.deployments[0].status == "PRIMARY"
    workers = observed.services["bullmq-workers"]
    assert len(workers.tasks) == 1
    (stopped,) = workers.stopped_tasks
    assert stopped.stopped_reason == "Essential container exited"
    assert (stopped.stop_code, stopped.stopped_at) == (None, None)  # moto lacks both


def test_cluster_not_found_is_observed(seeded: Seeded) -> None:
    observed = observe_cluster(seeded.clients["ecs"], "no-such-cluster", ["app-api"])
    assert observed.cluster_missing is not None
    assert observed.cluster_missing.startswith("ClusterNotFoundException")


def test_target_groups_by_name_and_arn_with_zones(seeded: Seeded) -> None:
    ip_group, instance_group = observe_target_groups(
        seeded.clients["elbv2"], seeded.clients["ec2"], [seeded.ip_group_arn, f"{PREFIX}legacy"]
    ).groups

    assert (ip_group.name, ip_group.target_type) == (f"{PREFIX}api", "ip")
    # moto reports every registered target healthy and no AZ: the probe asks EC2 for the ENIs.
    assert {(t.id, t.state, t.availability_zone) for t in ip_group.targets} == {
        ("10.0.1.10", "healthy", f"{REGION}a"),
        ("10.0.2.20", "healthy", f"{REGION}b"),
        ("10.0.3.30", "healthy", None),
    }
    (instance,) = instance_group.targets
    assert (instance.id, instance.port, instance.availability_zone) == (
        seeded.instance_id,
        80,
        f"{REGION}b",
    )


def test_target_group_not_found_is_observed(seeded: Seeded) -> None:
    observed = observe_target_groups(
        seeded.clients["elbv2"], seeded.clients["ec2"], [f"{PREFIX}api", f"{PREFIX}nope"]
    )
    assert [g.name for g in observed.groups] == [f"{PREFIX}api"]
    assert observed.missing == [f"{PREFIX}nope"]


def test_alarms(seeded: Seeded) -> None:
    alarms = observe_alarms(seeded.clients["cloudwatch"], PREFIX)
    assert [(a.name, a.kind, a.state) for a in alarms] == [
        (f"{PREFIX}api-5xx", "metric", "ALARM"),
        (f"{PREFIX}api-latency", "metric", "OK"),  # moto starts alarms OK, AWS INSUFFICIENT_DATA
    ]
    assert alarms[0].reason == "Threshold Crossed" and alarms[0].updated_at is not None


def test_secrets_and_parameters(seeded: Seeded) -> None:
    secretsmanager, ssm = seeded.clients["secretsmanager"], seeded.clients["ssm"]

    assert observe_secret(secretsmanager, "/mobilytics/e2e/database-url").present
    retired = observe_secret(secretsmanager, "/mobilytics/e2e/retired")
    assert not retired.present and retired.detail.startswith("scheduled for deletion on ")
    assert observe_secret(secretsmanager, "/mobilytics/e2e/absent").detail == "not found"
    assert [
        (p.name, p.present)
        for p in observe_parameters(ssm, ["/mobilytics/e2e/redis-auth", "/mobilytics/e2e/nope"])
    ] == [("/mobilytics/e2e/redis-auth", True), ("/mobilytics/e2e/nope", False)]
