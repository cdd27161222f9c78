"""ALB probe against botocore's Stubber: one Stubber per client, calls made in a fixed order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber

from verify.probes.aws.elb import Target, observe_target_groups
from verify.probes.errors import ProbeError

REGION = "eu-west-1"
ACCOUNT = "123456789012"
VPC = "vpc-0a1b2c3d4e5f60718"
SESSION = botocore.session.get_session()


@pytest.fixture
def clients() -> Iterator[tuple[Any, Stubber, Any, Stubber]]:
    elbv2 = SESSION.create_client(
        "elbv2", region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t"
    )
    ec2 = SESSION.create_client(
        "ec2", region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t"
    )
    with Stubber(elbv2) as elbv2_stub, Stubber(ec2) as ec2_stub:
        yield elbv2, elbv2_stub, ec2, ec2_stub
        elbv2_stub.assert_no_pending_responses()
        ec2_stub.assert_no_pending_responses()


def group_arn(name: str) -> str:
    return f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{name}/0123456789abcdef"


def target_group(name: str, target_type: str = "ip") -> dict[str, Any]:
    return {
        "TargetGroupArn": group_arn(name),
        "TargetGroupName": name,
        "Protocol": "HTTP",
        "Port": 3000,
        "VpcId": VPC,
        "HealthCheckPath": "/health",
        "TargetType": target_type,
        "LoadBalancerArns": [
            f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/prod/0123456789abcdef"
        ],
    }


def health(
    target_id: str,
    state: str,
    reason: str | None = None,
    description: str | None = None,
    zone: str | None = None,
) -> dict[str, Any]:
    target: dict[str, Any] = {"Id": target_id, "Port": 3000}
    if zone:
        target["AvailabilityZone"] = zone
    target_health: dict[str, Any] = {"State": state}
    if reason:
        target_health["Reason"] = reason
    if description:
        target_health["Description"] = description
    return {"Target": target, "HealthCheckPort": "3000", "TargetHealth": target_health}


def eni(primary_ip: str, zone: str, secondary: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "NetworkInterfaceId": f"eni-{abs(hash(primary_ip)):017x}"[:21],
        "AvailabilityZone": zone,
        "VpcId": VPC,
        "SubnetId": "subnet-0123456789abcdef0",
        "InterfaceType": "interface",
        "Status": "in-use",
        "PrivateIpAddress": primary_ip,
        "PrivateIpAddresses": [
            {"PrivateIpAddress": primary_ip, "Primary": True},
            *({"PrivateIpAddress": ip, "Primary": False} for ip in secondary),
        ],
    }


def test_states_reasons_and_zones_from_enis_including_secondary_ips(clients: Any) -> None:
    elbv2, elbv2_stub, ec2, ec2_stub = clients
    elbv2_stub.add_response(
        "describe_target_groups",
        {"TargetGroups": [target_group("app-api")]},
        {"Names": ["app-api"]},
    )
    descriptions = [
        health("10.0.1.10", "healthy"),
        health(
            "10.0.2.20",
            "unhealthy",
            "Target.ResponseCodeMismatch",
            "Health checks failed with these codes: [502]",
        ),
        health(
            "10.0.1.31", "initial", "Elb.InitialHealthChecking", "Initial health checks in progress"
        ),
        health(
            "10.0.3.40",
            "draining",
            "Target.DeregistrationInProgress",
            "Target deregistration is in progress",
        ),
        health("10.0.3.50", "healthy", zone="eu-west-1c"),  # the API named the AZ: no lookup
    ]
    elbv2_stub.add_response(
        "describe_target_health",
        {"TargetHealthDescriptions": descriptions},
        {"TargetGroupArn": group_arn("app-api")},
    )
    ec2_stub.add_response(
        "describe_network_interfaces",
        {
            "NetworkInterfaces": [
                eni("10.0.1.10", "eu-west-1a"),
                eni("10.0.2.5", "eu-west-1b", secondary=("10.0.2.20",)),  # target on a secondary IP
                eni("10.0.1.30", "eu-west-1a", secondary=("10.0.1.31",)),
            ]
        },
        {
            "Filters": [
                {
                    "Name": "addresses.private-ip-address",
                    "Values": ["10.0.1.10", "10.0.1.31", "10.0.2.20", "10.0.3.40"],
                },
                {"Name": "vpc-id", "Values": [VPC]},
            ]
        },
    )

    (group,) = observe_target_groups(elbv2, ec2, ["app-api"], max_workers=1).groups

    assert (group.name, group.arn, group.target_type) == ("app-api", group_arn("app-api"), "ip")
    assert group.targets == (
        Target("10.0.1.10", 3000, "healthy", None, None, "eu-west-1a"),
        Target(
            "10.0.2.20",
            3000,
            "unhealthy",
            "Target.ResponseCodeMismatch",
            "Health checks failed with these codes: [502]",
            "eu-west-1b",
        ),
        Target(
            "10.0.1.31",
            3000,
            "initial",
            "Elb.InitialHealthChecking",
            "Initial health checks in progress",
            "eu-west-1a",
        ),
        Target(
            "10.0.3.40",
            3000,
            "draining",
            "Target.DeregistrationInProgress",
            "Target deregistration is in progress",
            None,  # its ENI is gone (the task stopped): unknown, not an error
        ),
        Target("10.0.3.50", 3000, "healthy", None, None, "eu-west-1c"),
    )


def test_names_and_arns_with_instance_targets_use_one_call_per_kind(clients: Any) -> None:
    elbv2, elbv2_stub, ec2, ec2_stub = clients
    elbv2_stub.add_response(
        "describe_target_groups",
        {"TargetGroups": [target_group("app-api")]},
        {"Names": ["app-api"]},
    )
    elbv2_stub.add_response(
        "describe_target_groups",
        {"TargetGroups": [target_group("legacy", "instance")]},
        {"TargetGroupArns": [group_arn("legacy")]},
    )
    # Health is asked per group in the order the groups were asked for.
    elbv2_stub.add_response(
        "describe_target_health",
        {"TargetHealthDescriptions": [health("i-0123456789abcdef0", "unused", "Target.NotInUse")]},
        {"TargetGroupArn": group_arn("legacy")},
    )
    elbv2_stub.add_response(
        "describe_target_health",
        {"TargetHealthDescriptions": [health("10.0.1.10", "healthy")]},
        {"TargetGroupArn": group_arn("app-api")},
    )
    ec2_stub.add_response(
        "describe_network_interfaces",
        {"NetworkInterfaces": [eni("10.0.1.10", "eu-west-1a")]},
        {
            "Filters": [
                {"Name": "addresses.private-ip-address", "Values": ["10.0.1.10"]},
                {"Name": "vpc-id", "Values": [VPC]},
            ]
        },
    )
    ec2_stub.add_response(
        "describe_instances",
        {
            "Reservations": [
                {
                    "ReservationId": "r-0123456789abcdef0",
                    "Instances": [
                        {
                            "InstanceId": "i-0123456789abcdef0",
                            "VpcId": VPC,
                            "Placement": {"AvailabilityZone": "eu-west-1b"},
                        }
                    ],
                }
            ]
        },
        {"Filters": [{"Name": "instance-id", "Values": ["i-0123456789abcdef0"]}]},
    )

    groups = observe_target_groups(
        elbv2, ec2, [group_arn("legacy"), "app-api", "app-api"], max_workers=1
    ).groups

    assert [group.name for group in groups] == ["legacy", "app-api"]  # as asked, once each
    assert groups[0].targets[0].availability_zone == "eu-west-1b"
    assert groups[0].targets[0].state == "unused"
    assert groups[1].targets[0].availability_zone == "eu-west-1a"


def test_no_ec2_call_when_the_api_names_every_zone(clients: Any) -> None:
    elbv2, elbv2_stub, ec2, _ = clients  # nothing queued on ec2: any call would fail
    elbv2_stub.add_response("describe_target_groups", {"TargetGroups": [target_group("app-api")]})
    elbv2_stub.add_response(
        "describe_target_health",
        {"TargetHealthDescriptions": [health("10.0.1.10", "healthy", zone="eu-west-1a")]},
    )

    (group,) = observe_target_groups(elbv2, ec2, ["app-api"], max_workers=1).groups

    assert group.targets[0].availability_zone == "eu-west-1a"


def test_a_missing_target_group_is_an_observation_named_from_one_listing(clients: Any) -> None:
    elbv2, elbv2_stub, ec2, _ = clients
    elbv2_stub.add_client_error(
        "describe_target_groups", "TargetGroupNotFound", "One or more target groups not found"
    )
    # One paginated listing of the account's groups names every missing one, however many.
    elbv2_stub.add_response(
        "describe_target_groups",
        {"TargetGroups": [target_group("app-api"), target_group("other")]},
        {"PageSize": 400},
    )
    elbv2_stub.add_response(
        "describe_target_health",
        {"TargetHealthDescriptions": [health("10.0.1.10", "healthy", zone="eu-west-1a")]},
    )
    asked = ["app-api", *(f"missing-{n}" for n in range(500))]

    observed = observe_target_groups(elbv2, ec2, asked, max_workers=1)

    assert [g.name for g in observed.groups] == ["app-api"]
    assert observed.missing == [f"missing-{n}" for n in range(500)]


def test_an_answer_naming_a_group_not_asked_for_is_an_error(clients: Any) -> None:
    elbv2, elbv2_stub, ec2, _ = clients
    elbv2_stub.add_response("describe_target_groups", {"TargetGroups": [target_group("evil")]})

    with pytest.raises(ProbeError) as raised:
        observe_target_groups(elbv2, ec2, ["app-api"], max_workers=1)

    assert raised.value.cause == "the answer holds target group 'evil', which was not asked for"


def test_access_denied_on_health_is_a_probe_error(clients: Any) -> None:
    elbv2, elbv2_stub, ec2, _ = clients
    elbv2_stub.add_response("describe_target_groups", {"TargetGroups": [target_group("app-api")]})
    elbv2_stub.add_client_error(
        "describe_target_health",
        "AccessDenied",
        "User is not authorized to perform: elasticloadbalancing:DescribeTargetHealth",
        403,
    )

    with pytest.raises(ProbeError) as raised:
        observe_target_groups(elbv2, ec2, ["app-api"], max_workers=1)

    assert str(raised.value) == (
        "elbv2:DescribeTargetHealth targetGroup=app-api: AccessDenied: User is not authorized "
        "to perform: elasticloadbalancing:DescribeTargetHealth"
    )


def test_throttled_eni_lookup_is_a_probe_error(clients: Any) -> None:
    elbv2, elbv2_stub, ec2, ec2_stub = clients
    elbv2_stub.add_response("describe_target_groups", {"TargetGroups": [target_group("app-api")]})
    elbv2_stub.add_response(
        "describe_target_health", {"TargetHealthDescriptions": [health("10.0.1.10", "healthy")]}
    )
    ec2_stub.add_client_error(
        "describe_network_interfaces",
        "RequestLimitExceeded",
        "Request limit exceeded.",
        503,
        response_meta={"RetryAttempts": 2},
    )

    with pytest.raises(ProbeError) as raised:
        observe_target_groups(elbv2, ec2, ["app-api"], max_workers=1)

    assert str(raised.value) == (
        "ec2:DescribeNetworkInterfaces: RequestLimitExceeded: Request limit exceeded. "
        "(after 3 attempts)"
    )
