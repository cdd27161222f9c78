"""RDS probe: the primary and its read replicas in one DescribeDBInstances, their automated
backups, and CloudWatch ReplicaLag for every replica in one GetMetricData."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from verify.probes.aws.calls import aws_errors, chunked
from verify.probes.errors import ProbeError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_rds import RDSClient
    from mypy_boto3_rds.type_defs import DBInstanceAutomatedBackupTypeDef, DBInstanceTypeDef

# Values in one DescribeDBInstances filter; GetMetricData takes 500 queries a call.
IDS_PER_FILTER = 100
QUERIES_PER_CALL = 500


@dataclass(frozen=True)
class StatusInfo:
    """One entry of StatusInfos (for a read replica: StatusType "read replication")."""

    type: str
    status: str  # replicating | replication degraded | error | stopped | terminated
    normal: bool
    message: str | None


@dataclass(frozen=True)
class Instance:
    identifier: str
    status: str  # available, backing-up, stopped, ...
    multi_az: bool
    encrypted: bool
    backup_retention_days: int
    latest_restorable_time: datetime | None
    replicas: tuple[str, ...]  # ReadReplicaDBInstanceIdentifiers
    source: str | None  # ReadReplicaSourceDBInstanceIdentifier (an ARN when cross-region)
    status_infos: tuple[StatusInfo, ...]
    engine: str
    engine_version: str

    def replication(self) -> StatusInfo | None:
        return next((i for i in self.status_infos if i.type == "read replication"), None)


@dataclass(frozen=True)
class InstancesObservation:
    instances: dict[str, Instance]
    missing: tuple[str, ...]  # asked for, not returned (RDS does not know them)
    observed_at: datetime  # UTC, when the answer came


def observe_instances(rds: RDSClient, identifiers: Sequence[str]) -> InstancesObservation:
    """DescribeDBInstances filtered on db-instance-id: one call for the primary and replicas."""
    wanted = list(dict.fromkeys(identifiers))
    raw: list[DBInstanceTypeDef] = []
    paginator = rds.get_paginator("describe_db_instances")
    for chunk in chunked(wanted, IDS_PER_FILTER):
        target = f"rds:DescribeDBInstances db-instance-id={','.join(chunk)}"
        with aws_errors(target, rds):
            pages = paginator.paginate(Filters=[{"Name": "db-instance-id", "Values": list(chunk)}])
            found = [instance for page in pages for instance in page.get("DBInstances", [])]
        stray = [
            i.get("DBInstanceIdentifier", "")
            for i in found
            if i.get("DBInstanceIdentifier") not in chunk
        ]
        if stray:
            raise ProbeError(
                target, f"the answer holds instance {stray[0]!r}, which was not asked for"
            )
        raw += found
    observed_at = datetime.now(UTC)
    instances = {i.identifier: i for i in map(_instance, raw)}
    missing = tuple(name for name in wanted if name not in instances)
    return InstancesObservation(instances, missing, observed_at)


def _instance(raw: DBInstanceTypeDef) -> Instance:
    restorable = raw.get("LatestRestorableTime")
    return Instance(
        identifier=raw.get("DBInstanceIdentifier", ""),
        status=raw.get("DBInstanceStatus", "unknown"),
        multi_az=bool(raw.get("MultiAZ", False)),
        encrypted=bool(raw.get("StorageEncrypted", False)),
        backup_retention_days=int(raw.get("BackupRetentionPeriod", 0)),
        latest_restorable_time=restorable.astimezone(UTC) if restorable else None,
        replicas=tuple(raw.get("ReadReplicaDBInstanceIdentifiers", [])),
        source=raw.get("ReadReplicaSourceDBInstanceIdentifier"),
        status_infos=tuple(
            StatusInfo(
                type=info.get("StatusType", ""),
                status=info.get("Status", ""),
                normal=bool(info.get("Normal", False)),
                message=info.get("Message"),
            )
            for info in raw.get("StatusInfos", [])
        ),
        engine=raw.get("Engine", ""),
        engine_version=raw.get("EngineVersion", ""),
    )


@dataclass(frozen=True)
class AutomatedBackup:
    identifier: str
    status: str  # active | retained | creating
    retention_days: int | None
    earliest: datetime | None  # RestoreWindow
    latest: datetime | None


def observe_automated_backups(rds: RDSClient, identifier: str) -> list[AutomatedBackup]:
    """The instance's automated backups; none (retention 0 deleted them) is an observation."""
    from botocore.exceptions import ClientError

    target = f"rds:DescribeDBInstanceAutomatedBackups db-instance-id={identifier}"
    paginator = rds.get_paginator("describe_db_instance_automated_backups")
    with aws_errors(target, rds):
        try:
            pages = paginator.paginate(DBInstanceIdentifier=identifier)
            raw = [b for page in pages for b in page.get("DBInstanceAutomatedBackups", [])]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "DBInstanceAutomatedBackupNotFound":
                raise
            raw = []
    stray = [
        b.get("DBInstanceIdentifier") for b in raw if b.get("DBInstanceIdentifier") != identifier
    ]
    if stray:
        raise ProbeError(
            target, f"the answer holds backups of {stray[0]!r}, which was not asked for"
        )
    return [_backup(b) for b in raw]


def _backup(raw: DBInstanceAutomatedBackupTypeDef) -> AutomatedBackup:
    window = raw.get("RestoreWindow", {})
    earliest, latest = window.get("EarliestTime"), window.get("LatestTime")
    retention = raw.get("BackupRetentionPeriod")
    return AutomatedBackup(
        identifier=raw.get("DBInstanceIdentifier", ""),
        status=raw.get("Status", "unknown"),
        retention_days=int(retention) if retention is not None else None,
        earliest=earliest.astimezone(UTC) if earliest else None,
        latest=latest.astimezone(UTC) if latest else None,
    )


@dataclass(frozen=True)
class LagMetric:
    """CloudWatch ReplicaLag of one replica over the window (None: no datapoint in it)."""

    replica: str
    max_s: float | None
    datapoints: int
    window_s: int


def observe_replica_lag(
    cloudwatch: CloudWatchClient,
    replicas: Sequence[str],
    window_s: int,
    *,
    now: datetime | None = None,
) -> dict[str, LagMetric]:
    """Maximum AWS/RDS ReplicaLag of each replica over the last `window_s`: one GetMetricData."""
    wanted = list(dict.fromkeys(replicas))
    end = (now or datetime.now(UTC)).replace(microsecond=0) + timedelta(seconds=1)
    start = end - timedelta(seconds=window_s)
    # One period spanning the whole window: its Maximum is the window's maximum.
    period = max(60, math.ceil(window_s / 60) * 60)
    found: dict[str, LagMetric] = {}
    for chunk in chunked(wanted, QUERIES_PER_CALL):
        queries = {f"lag{index}": replica for index, replica in enumerate(chunk)}
        target = f"cloudwatch:GetMetricData ReplicaLag {','.join(chunk)}"
        results = []
        with aws_errors(target, cloudwatch):
            paginator = cloudwatch.get_paginator("get_metric_data")
            pages = paginator.paginate(
                MetricDataQueries=[
                    {
                        "Id": query_id,
                        "MetricStat": {
                            "Metric": {
                                "Namespace": "AWS/RDS",
                                "MetricName": "ReplicaLag",
                                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": replica}],
                            },
                            "Period": period,
                            "Stat": "Maximum",
                        },
                        "ReturnData": True,
                    }
                    for query_id, replica in queries.items()
                ],
                StartTime=start,
                EndTime=end,
            )
            results = [r for page in pages for r in page.get("MetricDataResults", [])]
        values: dict[str, list[float]] = {}
        for result in results:
            if result.get("Id") in queries:
                values.setdefault(result["Id"], []).extend(result.get("Values", []))
        for query_id, replica in queries.items():
            points = values.get(query_id, [])
            found[replica] = LagMetric(
                replica, max(points) if points else None, len(points), window_s
            )
    return found
