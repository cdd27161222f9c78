"""boto3 clients against the raw moto server (seeding and fault application bypass the overlay)."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from verify.sandbox import spec

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_elbv2 import ElasticLoadBalancingv2Client
    from mypy_boto3_secretsmanager import SecretsManagerClient


@dataclass(frozen=True)
class Clients:
    """One client per service the sandbox seeds."""

    ec2: EC2Client
    ecs: ECSClient
    elbv2: ElasticLoadBalancingv2Client
    cloudwatch: CloudWatchClient
    secretsmanager: SecretsManagerClient


def make_clients(moto_url: str) -> Clients:
    """Clients on `moto_url`; a single attempt each, so an unsupported call fails fast."""
    session = boto3.Session(
        aws_access_key_id=spec.ACCESS_KEY_ID,
        aws_secret_access_key=spec.SECRET_ACCESS_KEY,
        region_name=spec.REGION,
    )
    config = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30)
    return Clients(
        ec2=session.client("ec2", endpoint_url=moto_url, config=config),
        ecs=session.client("ecs", endpoint_url=moto_url, config=config),
        elbv2=session.client("elbv2", endpoint_url=moto_url, config=config),
        cloudwatch=session.client("cloudwatch", endpoint_url=moto_url, config=config),
        secretsmanager=session.client("secretsmanager", endpoint_url=moto_url, config=config),
    )


def pin_task_transitions(moto_url: str) -> None:
    """Keep moto's tasks RUNNING: by default each describe walks them one step towards STOPPED."""
    body = json.dumps(
        {"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1_000_000}}
    ).encode()
    request = urllib.request.Request(
        f"{moto_url}/moto-api/state-manager/set-transition", data=body, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
