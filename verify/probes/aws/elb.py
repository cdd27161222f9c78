"""ALB probe: target groups, their targets' health and the AZ each target sits in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from verify.probes.aws.calls import DEFAULT_MAX_WORKERS, aws_errors, call_pool, chunked
from verify.probes.errors import ProbeError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from concurrent.futures import Executor

    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_elbv2 import ElasticLoadBalancingv2Client
    from mypy_boto3_elbv2.type_defs import TargetGroupTypeDef, TargetHealthDescriptionTypeDef

# EC2 accepts at most 200 values in one filter.
VALUES_PER_EC2_FILTER = 200
# The AZ ELB reports for a target outside the group's VPC: no zone of ours.
OUTSIDE_VPC_ZONE = "all"


@dataclass(frozen=True)
class Target:
    id: str  # IP or instance id
    port: int | None
    state: str  # initial | healthy | unhealthy | unused | draining | unavailable
    reason: str | None
    description: str | None
    availability_zone: str | None


@dataclass(frozen=True)
class TargetGroup:
    name: str
    arn: str
    target_type: str  # ip | instance | lambda | alb
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class TargetGroupsObservation:
    groups: list[TargetGroup]
    missing: list[str]  # names or ARNs ELB says do not exist


def observe_target_groups(
    elbv2: ElasticLoadBalancingv2Client,
    ec2: EC2Client,
    names_or_arns: Sequence[str],
    *,
    max_workers: int = DEFAULT_MAX_WORKERS,
) -> TargetGroupsObservation:
    """Resolve groups in one call, target health per group, target AZs from EC2 in one call.

    Groups come back in the order asked (once each). A group ELB does not know is an observation
    (`missing`), found with one paginated listing however many are missing; an answer naming a
    group nobody asked for is an error. `max_workers=1` makes the calls sequential.
    """
    wanted = list(dict.fromkeys(names_or_arns))
    arns = [entry for entry in wanted if entry.startswith("arn:")]
    names = [entry for entry in wanted if not entry.startswith("arn:")]
    with call_pool(max_workers) as pool:
        lookups = []
        if names:
            lookups.append(pool.submit(_describe_groups, elbv2, "Names", names))
        if arns:
            lookups.append(pool.submit(_describe_groups, elbv2, "TargetGroupArns", arns))
        answers = [lookup.result() for lookup in lookups]
        if any(answer is None for answer in answers):
            answers = [_all_groups(elbv2)]
        by_key: dict[str, TargetGroupTypeDef] = {}
        for answer in answers:
            for group in answer or []:
                by_key[group.get("TargetGroupName", "")] = group
                by_key[group.get("TargetGroupArn", "")] = group
        missing = [entry for entry in wanted if entry not in by_key]
        # Once each, even when asked for by both name and ARN.
        groups = list(
            {by_key[e]["TargetGroupArn"]: by_key[e] for e in wanted if e in by_key}.values()
        )
        health_lookups = [pool.submit(_describe_health, elbv2, group) for group in groups]
        healths = [lookup.result() for lookup in health_lookups]
        zones = _target_zones(ec2, list(zip(groups, healths, strict=True)), pool)

    observed = [
        TargetGroup(
            name=group.get("TargetGroupName", ""),
            arn=group.get("TargetGroupArn", ""),
            target_type=group.get("TargetType", "unknown"),
            targets=tuple(_target(raw, zones.get(group.get("VpcId", ""), {})) for raw in health),
        )
        for group, health in zip(groups, healths, strict=True)
    ]
    return TargetGroupsObservation(observed, missing)


def _describe_groups(
    elbv2: ElasticLoadBalancingv2Client, key: str, values: Sequence[str]
) -> list[TargetGroupTypeDef] | None:
    """DescribeTargetGroups by names or by ARNs; None when ELB says one or more do not exist."""
    from botocore.exceptions import ClientError

    label = "names" if key == "Names" else "arns"
    target = f"elbv2:DescribeTargetGroups {label}={_shorten(values)}"
    with aws_errors(target, elbv2):
        try:
            groups = _groups_page_through(elbv2, key, values)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TargetGroupNotFound":
                raise
            return None
    field = "TargetGroupName" if key == "Names" else "TargetGroupArn"
    stray = [g.get(field, "") for g in groups if g.get(field, "") not in values]
    if stray:
        raise ProbeError(
            target, f"the answer holds target group {stray[0]!r}, which was not asked for"
        )
    return groups


def _shorten(values: Sequence[str], limit: int = 3) -> str:
    shown = ",".join(values[:limit])
    return shown + (f",... ({len(values)} in all)" if len(values) > limit else "")


def _groups_page_through(
    elbv2: ElasticLoadBalancingv2Client, key: str, values: Sequence[str]
) -> list[TargetGroupTypeDef]:
    paginator = elbv2.get_paginator("describe_target_groups")
    pages = (
        paginator.paginate(Names=list(values))
        if key == "Names"
        else paginator.paginate(TargetGroupArns=list(values))
    )
    return [group for page in pages for group in page.get("TargetGroups", [])]


def _all_groups(elbv2: ElasticLoadBalancingv2Client) -> list[TargetGroupTypeDef]:
    """Every target group of the account and region, 400 a page: which of ours exist."""
    # The error only says "one or more" are missing: one listing beats a call per name.
    paginator = elbv2.get_paginator("describe_target_groups")
    with aws_errors("elbv2:DescribeTargetGroups (all, to find the missing ones)", elbv2):
        pages = paginator.paginate(PaginationConfig={"PageSize": 400})
        return [group for page in pages for group in page.get("TargetGroups", [])]


def _describe_health(
    elbv2: ElasticLoadBalancingv2Client, group: TargetGroupTypeDef
) -> list[TargetHealthDescriptionTypeDef]:
    name = group.get("TargetGroupName", "")
    with aws_errors(f"elbv2:DescribeTargetHealth targetGroup={name}", elbv2):
        response = elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])
    return response.get("TargetHealthDescriptions", [])


def _target(raw: TargetHealthDescriptionTypeDef, zones: dict[str, str]) -> Target:
    """A Target; its AZ from the API if given, else from the EC2 lookup (`zones`: id -> AZ)."""
    target = raw.get("Target", {"Id": ""})
    health = raw.get("TargetHealth", {})
    target_id = target.get("Id", "")
    zone = target.get("AvailabilityZone") or zones.get(target_id)
    return Target(
        id=target_id,
        port=_port(target.get("Port")),
        state=health.get("State", "unknown"),
        reason=health.get("Reason"),
        description=health.get("Description"),
        availability_zone=None if zone == OUTSIDE_VPC_ZONE else zone,
    )


def _port(value: int | str | None) -> int | None:
    """The port as an int (the stubs allow a string)."""
    return int(value) if value is not None and str(value).isdigit() else None


def _target_zones(
    ec2: EC2Client,
    groups: Sequence[tuple[TargetGroupTypeDef, Sequence[TargetHealthDescriptionTypeDef]]],
    pool: Executor,
) -> dict[str, dict[str, str]]:
    """VPC id -> target id -> AZ, for targets whose health description lacks the AZ.

    One DescribeNetworkInterfaces for every ip target, one DescribeInstances for every instance.
    """
    ips: set[str] = set()
    instance_ids: set[str] = set()
    vpcs: set[str] = set()
    for group, health in groups:
        unplaced = [
            raw["Target"]["Id"]
            for raw in health
            if "Target" in raw and not raw["Target"].get("AvailabilityZone")
        ]
        if unplaced and group.get("VpcId"):
            vpcs.add(group["VpcId"])
            if group.get("TargetType") == "ip":
                ips.update(unplaced)
            elif group.get("TargetType") == "instance":
                instance_ids.update(unplaced)
    lookups = [
        *(
            pool.submit(_zones_of_ips, ec2, sorted(vpcs), chunk)
            for chunk in chunked(sorted(ips), VALUES_PER_EC2_FILTER)
        ),
        *(
            pool.submit(_zones_of_instances, ec2, chunk)
            for chunk in chunked(sorted(instance_ids), VALUES_PER_EC2_FILTER)
        ),
    ]
    zones: dict[str, dict[str, str]] = {}
    for lookup in lookups:
        for vpc, target_id, zone in lookup.result():
            zones.setdefault(vpc, {})[target_id] = zone
    return zones


def _zones_of_ips(
    ec2: EC2Client, vpcs: Sequence[str], ips: Sequence[str]
) -> list[tuple[str, str, str]]:
    """(VPC, IP, AZ) for every private IP, primary or secondary, of the ENIs holding `ips`."""
    paginator = ec2.get_paginator("describe_network_interfaces")
    pages = paginator.paginate(
        Filters=[
            {"Name": "addresses.private-ip-address", "Values": list(ips)},
            # The same private IP can exist in two VPCs; only the groups' VPCs count.
            {"Name": "vpc-id", "Values": list(vpcs)},
        ]
    )
    placed: list[tuple[str, str, str]] = []
    with aws_errors("ec2:DescribeNetworkInterfaces", ec2):
        for page in pages:
            for eni in page.get("NetworkInterfaces", []):
                vpc, zone = eni.get("VpcId", ""), eni.get("AvailabilityZone", "")
                addresses = {eni.get("PrivateIpAddress", "")} | {
                    address.get("PrivateIpAddress", "")
                    for address in eni.get("PrivateIpAddresses", [])
                }
                placed.extend((vpc, ip, zone) for ip in addresses if ip and zone)
    return placed


def _zones_of_instances(ec2: EC2Client, instance_ids: Sequence[str]) -> list[tuple[str, str, str]]:
    """(VPC, instance id, AZ) for each instance that still exists."""
    # A filter, not InstanceIds=: an id that no longer exists must not fail the whole lookup.
    paginator = ec2.get_paginator("describe_instances")
    pages = paginator.paginate(Filters=[{"Name": "instance-id", "Values": list(instance_ids)}])
    placed: list[tuple[str, str, str]] = []
    with aws_errors("ec2:DescribeInstances", ec2):
        for page in pages:
            for reservation in page.get("Reservations", []):
                for instance in reservation.get("Instances", []):
                    zone = instance.get("Placement", {}).get("AvailabilityZone", "")
                    if zone:
                        placed.append((instance.get("VpcId", ""), instance["InstanceId"], zone))
    return placed
