"""RDS and ReplicaLag probes against botocore's Stubber: the fields moto lacks, in real shapes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from tests.support.stubbed import ACCOUNT, REGION, stubbed
from verify.probes.aws.rds import (
    observe_automated_backups,
    observe_instances,
    observe_replica_lag,
)
from verify.probes.errors import ProbeError

PRIMARY = "mobilytics-prod"
REPLICAS = ["mobilytics-prod-replica-1", "mobilytics-prod-replica-2"]
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
KMS = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0c2f2b4e-1111-2222-3333-444455556666"


@pytest.fixture
def rds() -> Iterator[tuple[Any, Stubber]]:
    yield from stubbed("rds")


@pytest.fixture
def cloudwatch() -> Iterator[tuple[Any, Stubber]]:
    yield from stubbed("cloudwatch")


def instance(identifier: str, **fields: Any) -> dict[str, Any]:
    """A DescribeDBInstances entry as RDS for PostgreSQL answers it."""
    replica = identifier != PRIMARY
    raw: dict[str, Any] = {
        "DBInstanceIdentifier": identifier,
        "DBInstanceClass": "db.r6g.large",
        "Engine": "postgres",
        "EngineVersion": "15.8",
        "DBInstanceStatus": "available",
        "MasterUsername": "mobilytics_admin",
        "Endpoint": {
            "Address": f"{identifier}.abcdefghij.{REGION}.rds.amazonaws.com",
            "Port": 5432,
            "HostedZoneId": "Z29XKXDKYMONMX",
        },
        "AllocatedStorage": 100,
        "InstanceCreateTime": NOW - timedelta(days=90),
        "PreferredBackupWindow": "02:00-02:30",
        "BackupRetentionPeriod": 0 if replica else 7,
        "AvailabilityZone": "eu-west-1b" if replica else "eu-west-1a",
        "MultiAZ": not replica,
        "StorageEncrypted": True,
        "KmsKeyId": KMS,
        "DbiResourceId": f"db-{identifier.upper().replace('-', '')[:20]}",
        "DBInstanceArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:db:{identifier}",
        "ReadReplicaDBInstanceIdentifiers": [] if replica else list(REPLICAS),
    }
    if replica:
        raw["ReadReplicaSourceDBInstanceIdentifier"] = PRIMARY
        raw["StatusInfos"] = [
            {"StatusType": "read replication", "Normal": True, "Status": "replicating"}
        ]
    else:
        raw["SecondaryAvailabilityZone"] = "eu-west-1c"
        raw["LatestRestorableTime"] = NOW - timedelta(minutes=3)
    raw.update(fields)
    return raw


def expect_describe(stubber: Stubber, instances: list[dict[str, Any]], ids: list[str]) -> None:
    stubber.add_response(
        "describe_db_instances",
        {"DBInstances": instances},
        {"Filters": [{"Name": "db-instance-id", "Values": ids}]},
    )


def test_one_call_for_primary_and_replicas_reads_status_infos(rds: Any) -> None:
    client, stubber = rds
    broken = instance(
        REPLICAS[1],
        StatusInfos=[
            {
                "StatusType": "read replication",
                "Normal": False,
                "Status": "error",
                "Message": "Replication has stopped due to a replication error.",
            }
        ],
    )
    ids = [PRIMARY, *REPLICAS]
    expect_describe(stubber, [instance(PRIMARY), instance(REPLICAS[0]), broken], ids)

    observed = observe_instances(client, ids)

    assert observed.missing == ()
    primary = observed.instances[PRIMARY]
    assert (primary.status, primary.multi_az, primary.encrypted) == ("available", True, True)
    assert primary.backup_retention_days == 7
    assert primary.latest_restorable_time == NOW - timedelta(minutes=3)
    assert primary.replicas == tuple(REPLICAS)
    assert primary.replication() is None
    healthy, failing = observed.instances[REPLICAS[0]], observed.instances[REPLICAS[1]]
    assert healthy.source == PRIMARY
    replication = healthy.replication()
    assert replication is not None
    assert (replication.status, replication.normal) == ("replicating", True)
    replication = failing.replication()
    assert replication is not None
    assert (replication.status, replication.normal) == ("error", False)
    assert replication.message == "Replication has stopped due to a replication error."


def test_backups_disabled_means_no_restorable_time_and_no_automated_backups(rds: Any) -> None:
    client, stubber = rds
    disabled = instance(PRIMARY, BackupRetentionPeriod=0)
    del disabled["LatestRestorableTime"]  # RDS omits it while backups are off
    expect_describe(stubber, [disabled], [PRIMARY])
    stubber.add_response(
        "describe_db_instance_automated_backups",
        {"DBInstanceAutomatedBackups": []},
        {"DBInstanceIdentifier": PRIMARY},
    )

    observed = observe_instances(client, [PRIMARY])
    backups = observe_automated_backups(client, PRIMARY)

    primary = observed.instances[PRIMARY]
    assert (primary.backup_retention_days, primary.latest_restorable_time) == (0, None)
    assert backups == []


def test_automated_backups_in_their_real_shape(rds: Any) -> None:
    client, stubber = rds
    stubber.add_response(
        "describe_db_instance_automated_backups",
        {
            "DBInstanceAutomatedBackups": [
                {
                    "DBInstanceArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:db:{PRIMARY}",
                    "DbiResourceId": "db-ABCDEFGHIJKLMNOPQRSTUVWXY",
                    "Region": REGION,
                    "DBInstanceIdentifier": PRIMARY,
                    "RestoreWindow": {"EarliestTime": NOW - timedelta(days=7), "LatestTime": NOW},
                    "AllocatedStorage": 100,
                    "Status": "active",
                    "Port": 5432,
                    "AvailabilityZone": "eu-west-1a",
                    "Engine": "postgres",
                    "EngineVersion": "15.8",
                    "Encrypted": True,
                    "KmsKeyId": KMS,
                    "BackupRetentionPeriod": 7,
                }
            ]
        },
        {"DBInstanceIdentifier": PRIMARY},
    )

    (backup,) = observe_automated_backups(client, PRIMARY)

    assert (backup.status, backup.retention_days) == ("active", 7)
    assert (backup.earliest, backup.latest) == (NOW - timedelta(days=7), NOW)


def test_no_automated_backup_fault_is_an_empty_observation(rds: Any) -> None:
    client, stubber = rds
    stubber.add_client_error(
        "describe_db_instance_automated_backups",
        service_error_code="DBInstanceAutomatedBackupNotFound",
        service_message=f"No automated backup found for {PRIMARY}",
        http_status_code=404,
        expected_params={"DBInstanceIdentifier": PRIMARY},
    )

    assert observe_automated_backups(client, PRIMARY) == []


def test_an_instance_rds_does_not_know_is_missing_not_an_error(rds: Any) -> None:
    client, stubber = rds
    ids = [PRIMARY, "mobilytics-prod-replica-9"]
    expect_describe(stubber, [instance(PRIMARY)], ids)

    observed = observe_instances(client, ids)

    assert observed.missing == ("mobilytics-prod-replica-9",)
    assert set(observed.instances) == {PRIMARY}


def test_an_answer_about_an_instance_nobody_asked_for_is_an_error(rds: Any) -> None:
    client, stubber = rds
    expect_describe(stubber, [instance(PRIMARY), instance("someone-elses-db")], [PRIMARY])

    with pytest.raises(ProbeError, match="'someone-elses-db', which was not asked for"):
        observe_instances(client, [PRIMARY])


def test_access_denied_is_a_probe_error_naming_the_call(rds: Any) -> None:
    client, stubber = rds
    stubber.add_client_error(
        "describe_db_instances",
        service_error_code="AccessDenied",
        service_message="not authorized to perform: rds:DescribeDBInstances",
        http_status_code=403,
    )

    with pytest.raises(ProbeError) as raised:
        observe_instances(client, [PRIMARY])
    assert raised.value.target == f"rds:DescribeDBInstances db-instance-id={PRIMARY}"
    assert raised.value.cause.startswith("AccessDenied:")


def test_replica_lag_is_one_get_metric_data_for_every_replica(cloudwatch: Any) -> None:
    client, stubber = cloudwatch
    stubber.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [
                {
                    "Id": "lag0",
                    "Label": "ReplicaLag",
                    "Timestamps": [NOW - timedelta(minutes=1), NOW - timedelta(minutes=2)],
                    "Values": [2.0, 41.5],
                    "StatusCode": "Complete",
                },
                {
                    "Id": "lag1",
                    "Label": "ReplicaLag",
                    "Timestamps": [],
                    "Values": [],
                    "StatusCode": "Complete",
                },
            ]
        },
        {
            "MetricDataQueries": [
                {
                    "Id": f"lag{index}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "AWS/RDS",
                            "MetricName": "ReplicaLag",
                            "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": replica}],
                        },
                        "Period": 300,
                        "Stat": "Maximum",
                    },
                    "ReturnData": True,
                }
                for index, replica in enumerate(REPLICAS)
            ],
            "StartTime": ANY,
            "EndTime": ANY,
        },
    )

    found = observe_replica_lag(client, REPLICAS, 300, now=NOW)

    assert (found[REPLICAS[0]].max_s, found[REPLICAS[0]].datapoints) == (41.5, 2)
    assert (found[REPLICAS[1]].max_s, found[REPLICAS[1]].datapoints) == (None, 0)
