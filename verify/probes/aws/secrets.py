"""Secrets probe: does each required secret exist? Describe only; values are never read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from verify.probes.aws.calls import aws_errors, chunked
from verify.probes.errors import ProbeError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_ssm import SSMClient

# DescribeParameters accepts at most 50 values in one filter.
PARAMETER_NAMES_PER_FILTER = 50


@dataclass(frozen=True)
class SecretPresence:
    name: str
    store: str  # secretsmanager | ssm
    present: bool
    detail: str  # "exists", "not found", "scheduled for deletion on 2026-12-01", ...


def observe_secret(secretsmanager: SecretsManagerClient, name: str) -> SecretPresence:
    """DescribeSecret `name`; not found or pending deletion is an observation, not an error."""
    from botocore.exceptions import ClientError

    with aws_errors(f"secretsmanager:DescribeSecret name={name}", secretsmanager):
        try:
            secret = secretsmanager.describe_secret(SecretId=name)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            return SecretPresence(name, "secretsmanager", present=False, detail="not found")
    answered = secret.get("ARN", "") if name.startswith("arn:") else secret.get("Name", "")
    if answered != name:
        raise ProbeError(
            f"secretsmanager:DescribeSecret name={name}",
            f"the answer describes {answered!r}, not the secret asked for",
        )
    deleted = secret.get("DeletedDate")
    if deleted is not None:
        detail = f"scheduled for deletion on {deleted.date().isoformat()}"
        return SecretPresence(name, "secretsmanager", present=False, detail=detail)
    stages = [stage for stages in secret.get("VersionIdsToStages", {}).values() for stage in stages]
    if "AWSCURRENT" not in stages:
        # Created but never given a value (or every version deprecated): nothing to read.
        detail = "exists but has no AWSCURRENT version (no value set)"
        return SecretPresence(name, "secretsmanager", present=False, detail=detail)
    return SecretPresence(name, "secretsmanager", present=True, detail="exists")


def observe_parameters(ssm: SSMClient, names: Sequence[str]) -> list[SecretPresence]:
    """DescribeParameters for `names` (name filter, batched), never GetParameter."""
    wanted = list(dict.fromkeys(names))
    found: set[str] = set()
    paginator = ssm.get_paginator("describe_parameters")
    for chunk in chunked(wanted, PARAMETER_NAMES_PER_FILTER):
        pages = paginator.paginate(
            ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": list(chunk)}]
        )
        target = f"ssm:DescribeParameters names={','.join(chunk)}"
        with aws_errors(target, ssm):
            answered = {
                parameter.get("Name", "")
                for page in pages
                for parameter in page.get("Parameters", [])
            }
        stray = sorted(answered - set(chunk))
        if stray:
            raise ProbeError(
                target, f"the answer holds parameter {stray[0]!r}, which was not asked for"
            )
        found.update(answered)
    return [
        SecretPresence(name, "ssm", present=True, detail="exists")
        if name in found
        else SecretPresence(name, "ssm", present=False, detail="not found")
        for name in wanted
    ]
