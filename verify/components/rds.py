"""Component `rds`: the RDS PostgreSQL primary and its read replicas, as the RDS API reports them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import Field, field_validator, model_validator

from verify.config import Table
from verify.registry import Component, Probe, View

if TYPE_CHECKING:
    from verify.context import ProbeContext
    from verify.iam import Grant, Scope
    from verify.probes.aws.rds import AutomatedBackup, InstancesObservation

# RDS DB instance identifiers: a letter, then letters, digits and single hyphens, 63 at most.
IDENTIFIER = re.compile(r"^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,62}(?<!-)$")


def rds_identifier(value: str) -> str:
    if not IDENTIFIER.match(value):
        raise ValueError(f"{value!r} is not an RDS DB instance identifier")
    return value


class RdsConfig(Table):
    instance: str  # the primary's DB instance identifier
    replicas: list[str] = Field([], max_length=15)  # its read replicas (RDS allows 15)

    @field_validator("instance")
    @classmethod
    def _instance(cls, value: str) -> str:
        return rds_identifier(value)

    @field_validator("replicas")
    @classmethod
    def _replicas(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("lists a replica twice")
        return [rds_identifier(v) for v in value]

    @model_validator(mode="after")
    def _primary_is_no_replica(self) -> RdsConfig:
        if self.instance in self.replicas:
            raise ValueError(f"{self.instance} is both the instance and one of its replicas")
        return self


class RdsThresholds(Table):
    pitr_max_age_s: float = Field(900, gt=0, le=7 * 86_400)  # LatestRestorableTime at most this old
    backup_retention_min_days: int = Field(7, ge=1, le=35)  # RDS keeps 35 days at most


def observe_instances(ctx: ProbeContext) -> InstancesObservation:
    from verify.probes.aws import rds

    table: RdsConfig = ctx.table
    return rds.observe_instances(ctx.aws("rds"), [table.instance, *table.replicas])


def observe_backups(ctx: ProbeContext) -> list[AutomatedBackup]:
    from verify.probes.aws import rds

    table: RdsConfig = ctx.table
    return rds.observe_automated_backups(ctx.aws("rds"), table.instance)


def iam(table: RdsConfig, scope: Scope) -> list[Grant]:
    """The primary's and replicas' records; automated backups have their own, unknown ARNs."""
    from verify.iam import Grant

    instances = tuple(scope.arn("rds", f"db:{i}") for i in [table.instance, *table.replicas])
    return [
        Grant(("rds:DescribeDBInstances",), instances, why="RdsInstances"),
        Grant(("rds:DescribeDBInstanceAutomatedBackups",), why="RdsBackups"),
    ]


COMPONENT = Component(
    name="rds",
    table=RdsConfig,
    thresholds=RdsThresholds,
    checks="verify.checks.test_rds",
    probes=(Probe("rds.instances", observe_instances), Probe("rds.backups", observe_backups)),
    views=(View("rds_instances", "rds.instances"), View("rds_backups", "rds.backups")),
    applies={
        "replicas_attached": lambda table: (
            None if table.replicas else "rds.replicas lists no read replica"
        ),
    },
    summary="primary and replicas available, replicas attached, PITR fresh, backups, Multi-AZ, encryption",
    iam=iam,
)
