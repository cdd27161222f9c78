"""Seed moto with the static resources of the `local` platform (tasks come from the world)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from verify.sandbox import spec

if TYPE_CHECKING:
    from verify.sandbox.motoapp import Clients


@dataclass
class Inventory:
    """Identifiers of what the seed created."""

    vpc_id: str
    subnets: dict[str, str]  # AZ -> subnet id
    security_group_id: str
    enis: dict[str, str]  # AZ -> ENI id of the API target in that AZ
    load_balancer_arn: str
    target_group_arn: str
    listener_arn: str
    task_definitions: dict[str, dict[int, str]] = field(
        default_factory=dict
    )  # family -> rev -> arn

    def az_of_subnet(self, subnet_id: str) -> str | None:
        """The AZ a seeded subnet lies in."""
        return next((az for az, sid in self.subnets.items() if sid == subnet_id), None)


def seed_network_and_alb(clients: Clients) -> Inventory:
    """VPC, one subnet per AZ, a security group, the target ENIs, the ALB and its target group."""
    ec2 = clients.ec2
    vpc_id = ec2.create_vpc(CidrBlock=spec.VPC_CIDR)["Vpc"]["VpcId"]
    # moto's run_task reads the ENI's private DNS name, which exists only with DNS hostnames on.
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    subnets = {
        az: ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=az)["Subnet"][
            "SubnetId"
        ]
        for az, cidr in spec.SUBNET_CIDRS.items()
    }
    sg = ec2.create_security_group(
        GroupName=f"{spec.PREFIX}-app-api", Description="app-api tasks", VpcId=vpc_id
    )["GroupId"]
    enis = {
        az: ec2.create_network_interface(
            SubnetId=subnets[az],
            Groups=[sg],
            PrivateIpAddress=spec.TARGET_IPS[az],
            Description=f"ECS task app-api ({az})",
        )["NetworkInterface"]["NetworkInterfaceId"]
        for az in spec.AZS
    }
    elbv2 = clients.elbv2
    lb = elbv2.create_load_balancer(
        Name=spec.LOAD_BALANCER,
        Subnets=list(subnets.values()),
        SecurityGroups=[sg],
        Scheme="internal",
        Type="application",
    )["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elbv2.create_target_group(
        Name=spec.TARGET_GROUP,
        Protocol="HTTP",
        Port=spec.API_PORT,
        VpcId=vpc_id,
        TargetType="ip",
        HealthCheckPath="/health",
        HealthCheckIntervalSeconds=15,
        HealthyThresholdCount=2,
        UnhealthyThresholdCount=2,
    )["TargetGroups"][0]["TargetGroupArn"]
    listener = elbv2.create_listener(
        LoadBalancerArn=lb,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )["Listeners"][0]["ListenerArn"]
    return Inventory(vpc_id, subnets, sg, enis, lb, tg, listener)


def register_task_definition(clients: Clients, family: str, release: str, marker: str = "") -> str:
    """A FARGATE task definition of `family` running `release`; returns its ARN."""
    cpu, memory = spec.TASK_SIZES[family]
    container: dict[str, object] = {
        "name": family,
        "image": spec.image(family, release),
        "essential": True,
        # moto's run_task answers 500 without container-level memory.
        "memory": int(memory),
        "environment": [{"name": "RELEASE", "value": release}]
        + ([{"name": "CONFIG_REVISION", "value": marker}] if marker else []),
    }
    if family == spec.API_SERVICE:
        container["portMappings"] = [{"containerPort": spec.API_PORT, "protocol": "tcp"}]
    return clients.ecs.register_task_definition(
        family=family,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu=cpu,
        memory=memory,
        containerDefinitions=[container],  # type: ignore[list-item]
    )["taskDefinition"]["taskDefinitionArn"]


def seed_ecs(clients: Clients, inv: Inventory, release: str, previous_release: str) -> None:
    """Cluster, two revisions per family (previous, current), services on the current one."""
    ecs = clients.ecs
    ecs.create_cluster(clusterName=spec.CLUSTER)
    for family in spec.SERVICES:
        inv.task_definitions[family] = {
            1: register_task_definition(clients, family, previous_release),
            2: register_task_definition(clients, family, release),
        }
    network = {
        "awsvpcConfiguration": {
            "subnets": list(inv.subnets.values()),
            "securityGroups": [inv.security_group_id],
            "assignPublicIp": "DISABLED",
        }
    }
    for family in spec.SERVICES:
        load_balancers = (
            [
                {
                    "targetGroupArn": inv.target_group_arn,
                    "containerName": family,
                    "containerPort": spec.API_PORT,
                }
            ]
            if family == spec.API_SERVICE
            else []
        )
        ecs.create_service(
            cluster=spec.CLUSTER,
            serviceName=family,
            taskDefinition=inv.task_definitions[family][2],
            desiredCount=spec.DESIRED_COUNT,
            launchType="FARGATE",
            platformVersion=spec.PLATFORM_VERSION,
            networkConfiguration=network,  # type: ignore[arg-type]
            loadBalancers=load_balancers,  # type: ignore[arg-type]
        )


def seed_alarms(clients: Clients) -> None:
    """The plan's alarms; moto starts them OK, so set the ones that start otherwise."""
    cw = clients.cloudwatch
    for alarm in spec.ALARMS:
        stat: dict[str, str] = (
            {"ExtendedStatistic": alarm.statistic}
            if alarm.statistic.startswith("p")
            else {"Statistic": alarm.statistic}
        )
        cw.put_metric_alarm(
            AlarmName=alarm.name,
            Namespace=alarm.namespace,
            MetricName=alarm.metric,
            Dimensions=[{"Name": k, "Value": v} for k, v in alarm.dimensions],
            Period=60,
            EvaluationPeriods=3,
            DatapointsToAlarm=2,
            Threshold=alarm.threshold,
            ComparisonOperator=alarm.comparison,  # type: ignore[arg-type]
            TreatMissingData="missing",
            **stat,  # type: ignore[arg-type]
        )
        if alarm.initial_state != "OK":
            cw.set_alarm_state(
                AlarmName=alarm.name,
                StateValue=alarm.initial_state,  # type: ignore[arg-type]
                StateReason="Insufficient Data: 3 datapoints were unknown.",
            )


def seed_secrets(clients: Clients, values: dict[str, str]) -> None:
    """One Secrets Manager secret per name, with the generated value."""
    for name in spec.SECRET_NAMES:
        clients.secretsmanager.create_secret(
            Name=name, SecretString=values[name], Description="seeded by verify sandbox"
        )
