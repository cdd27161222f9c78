"""RDS answers as AWS gives them, from moto's: the fields moto lacks or cannot be told.

moto's DescribeDBInstances has no `StatusInfos` (a read replica's replication state), and its
`LatestRestorableTime` is always "now"; its automated backups are one bare `active` entry. The
sandbox's RDS side (verify.sandbox.rds_ext) decides the values; these functions write them into
the XML moto answered.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

NS = "http://rds.amazonaws.com/doc/2014-10-31/"
ET.register_namespace("", NS)


def _tag(name: str) -> str:
    return f"{{{NS}}}{name}"


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _set(parent: ET.Element, name: str, text: str) -> None:
    child = parent.find(_tag(name))
    if child is None:
        child = ET.SubElement(parent, _tag(name))
    child.text = text


def _drop(parent: ET.Element, name: str) -> None:
    for child in parent.findall(_tag(name)):
        parent.remove(child)


@dataclass(frozen=True)
class Replication:
    """What a read replica's StatusInfos say about its replication."""

    status: str  # replicating | error
    normal: bool
    message: str | None = None


@dataclass(frozen=True)
class InstanceView:
    """What AWS would report for one instance, beyond what moto keeps."""

    status: str | None = None  # DBInstanceStatus, when it is not moto's
    restorable_at: float | None = None  # LatestRestorableTime (epoch); None: leave moto's
    encrypted: bool | None = None  # StorageEncrypted, when a fault says otherwise
    replication: Replication | None = None  # StatusInfos of a read replica


def describe_instances(payload: bytes, view: Callable[[str], InstanceView | None]) -> bytes:
    """moto's DescribeDBInstances answer with `view(identifier)` written into each instance."""
    root = ET.fromstring(payload)
    for instance in root.iter(_tag("DBInstance")):
        identifier = instance.findtext(_tag("DBInstanceIdentifier")) or ""
        found = view(identifier)
        if found is None:
            continue
        if found.status is not None:
            _set(instance, "DBInstanceStatus", found.status)
        # AWS omits LatestRestorableTime while automated backups are off.
        if instance.findtext(_tag("BackupRetentionPeriod")) == "0":
            _drop(instance, "LatestRestorableTime")
        elif found.restorable_at is not None:
            _set(instance, "LatestRestorableTime", _iso(found.restorable_at))
        if found.encrypted is False:
            _set(instance, "StorageEncrypted", "false")
            _drop(instance, "KmsKeyId")
        _drop(instance, "StatusInfos")
        if found.replication is not None:
            infos = ET.SubElement(instance, _tag("StatusInfos"))
            info = ET.SubElement(infos, _tag("DBInstanceStatusInfo"))
            ET.SubElement(info, _tag("StatusType")).text = "read replication"
            ET.SubElement(info, _tag("Normal")).text = (
                "true" if found.replication.normal else "false"
            )
            ET.SubElement(info, _tag("Status")).text = found.replication.status
            if found.replication.message:
                ET.SubElement(info, _tag("Message")).text = found.replication.message
    out: bytes = ET.tostring(root)  # us-ascii: anything else as character references
    return out


@dataclass(frozen=True)
class BackupView:
    """An instance's automated backups as AWS reports them."""

    present: bool  # False: retention 0, AWS deleted them
    earliest: float
    latest: float | None
    retention_days: int
    arn: str
    region: str
    kms_key_id: str | None


def automated_backups(payload: bytes, view: Callable[[str], BackupView | None]) -> bytes:
    """moto's DescribeDBInstanceAutomatedBackups answer, entries completed or removed."""
    root = ET.fromstring(payload)
    for container in root.iter(_tag("DBInstanceAutomatedBackups")):
        for entry in list(container):
            identifier = entry.findtext(_tag("DBInstanceIdentifier")) or ""
            found = view(identifier)
            if found is None:
                continue
            if not found.present:
                container.remove(entry)
                continue
            _set(entry, "DBInstanceArn", found.arn)
            _set(entry, "Region", found.region)
            _set(entry, "Engine", "postgres")
            _set(entry, "BackupRetentionPeriod", str(found.retention_days))
            _set(entry, "Encrypted", "true" if found.kms_key_id else "false")
            if found.kms_key_id:
                _set(entry, "KmsKeyId", found.kms_key_id)
            _drop(entry, "RestoreWindow")
            window = ET.SubElement(entry, _tag("RestoreWindow"))
            ET.SubElement(window, _tag("EarliestTime")).text = _iso(found.earliest)
            if found.latest is not None:
                ET.SubElement(window, _tag("LatestTime")).text = _iso(found.latest)
    out: bytes = ET.tostring(root)  # us-ascii: anything else as character references
    return out
