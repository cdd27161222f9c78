"""RDS checks: the primary and its replicas are available, replicating, recoverable, configured."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from verify.text import plural

if TYPE_CHECKING:
    from verify.components.rds import RdsConfig
    from verify.config import EnvConfig
    from verify.fixtures.core import CheckRecord
    from verify.probes.aws.rds import AutomatedBackup, Instance, InstancesObservation

# Statuses in which an instance serves: RDS reports these during routine work (the daily backup
# window, storage optimisation after a resize, monitoring changes).
SERVING = frozenset(
    {
        "available",
        "backing-up",
        "storage-optimization",
        "configuring-enhanced-monitoring",
        "configuring-iam-database-auth",
        "configuring-log-exports",
    }
)


def _config(env: EnvConfig) -> RdsConfig:
    table: RdsConfig = env.table("rds")
    return table


def _evidence(instances: InstancesObservation) -> list[str]:
    lines = []
    for i in instances.instances.values():
        replication = i.replication()
        lines.append(
            f"{i.identifier}: {i.status} {i.engine} {i.engine_version} multi_az={i.multi_az} "
            f"encrypted={i.encrypted} retention={i.backup_retention_days}d "
            f"restorable={i.latest_restorable_time.isoformat() if i.latest_restorable_time else None}"
            + (f" replication={replication.status}" if replication else "")
        )
    lines += [f"{name}: not found" for name in instances.missing]
    return lines


def _found(instances: InstancesObservation, names: list[str]) -> dict[str, Instance]:
    """The instances RDS returned; asserting first that none is missing (not found: FAIL)."""
    assert not instances.missing, (
        f"RDS has no instance {', '.join(instances.missing)}; expected "
        f"{plural(len(names), 'instance')} {', '.join(names)}"
    )
    return {name: instances.instances[name] for name in names}


@pytest.mark.smoke
@pytest.mark.synthetic
def test_available(
    rds_instances: InstancesObservation, verify_env: EnvConfig, verify_check: CheckRecord
) -> None:
    """The primary and every replica exist and are in a serving status."""
    config = _config(verify_env)
    names = [config.instance, *config.replicas]
    statuses = {name: i.status for name, i in rds_instances.instances.items()}
    verify_check.record(
        observed={"status": statuses, "missing": list(rds_instances.missing)},
        threshold={"status": sorted(SERVING)},
        evidence=_evidence(rds_instances),
    )
    found = _found(rds_instances, names)
    down = {name: i.status for name, i in found.items() if i.status not in SERVING}
    assert not down, (
        ", ".join(f"{name} is {status}" for name, status in down.items())
        + "; expected available (or another serving status)"
    )


@pytest.mark.smoke
@pytest.mark.synthetic
def test_replicas_attached(
    rds_instances: InstancesObservation, verify_env: EnvConfig, verify_check: CheckRecord
) -> None:
    """Each replica is one of the primary's, sourced from it, and its read replication is normal."""
    config = _config(verify_env)
    seen = rds_instances.instances
    replication = {
        name: (info.status, info.normal, info.message)
        if (info := seen[name].replication())
        else None
        for name in config.replicas
        if name in seen
    }
    primary_replicas = list(seen[config.instance].replicas) if config.instance in seen else None
    verify_check.record(
        observed={"primary_replicas": primary_replicas, "replication": replication},
        threshold={"replicas": config.replicas, "replication": "replicating, Normal"},
        evidence=_evidence(rds_instances),
    )
    found = _found(rds_instances, [config.instance, *config.replicas])
    primary = found[config.instance]
    problems = []
    for name in config.replicas:
        replica, info = found[name], found[name].replication()
        source = (replica.source or "").rsplit(":", 1)[-1]
        if name not in primary.replicas:
            problems.append(
                f"{name} is not among {config.instance}'s read replicas {list(primary.replicas)}"
            )
        elif source != config.instance:
            problems.append(f"{name} replicates from {replica.source!r}, not {config.instance}")
        elif info is None:
            problems.append(f"{name} reports no read replication status (StatusInfos)")
        elif info.status != "replicating" or not info.normal:
            problems.append(
                f"{name} read replication {info.status}"
                + (f" ({info.message})" if info.message else "")
            )
    assert not problems, "; ".join(problems) + "; expected each replica attached and replicating"


@pytest.mark.smoke
@pytest.mark.synthetic
def test_pitr_fresh(
    rds_instances: InstancesObservation,
    verify_env: EnvConfig,
    verify_thresholds: Any,
    verify_check: CheckRecord,
) -> None:
    """The primary's LatestRestorableTime is at most `pitr_max_age_s` old (PITR works)."""
    config, limit = _config(verify_env), verify_thresholds.pitr_max_age_s
    seen = rds_instances.instances.get(config.instance)
    restorable = seen.latest_restorable_time if seen else None
    age = round((rds_instances.observed_at - restorable).total_seconds()) if restorable else None
    verify_check.record(
        observed={
            "latest_restorable_time": restorable.isoformat() if restorable else None,
            "age_s": age,
        },
        threshold={"pitr_max_age_s": limit},
        evidence=_evidence(rds_instances),
    )
    primary = _found(rds_instances, [config.instance])[config.instance]
    assert restorable is not None and age is not None, (
        f"{config.instance} has no LatestRestorableTime (backup retention "
        f"{primary.backup_retention_days} d): no point-in-time recovery; expected one <= {limit:g} s old"
    )
    assert age <= limit, (
        f"{config.instance} can be restored to {restorable.isoformat(timespec='seconds')} at the latest, "
        f"{age:.0f} s ago; expected <= {limit:g} s (pitr_max_age_s)"
    )


@pytest.mark.deep
def test_backup_retention(
    rds_instances: InstancesObservation,
    rds_backups: list[AutomatedBackup],
    verify_env: EnvConfig,
    verify_thresholds: Any,
    verify_check: CheckRecord,
) -> None:
    """Automated backups kept >= `backup_retention_min_days` days, and RDS has them (active)."""
    config, minimum = _config(verify_env), verify_thresholds.backup_retention_min_days
    seen = rds_instances.instances.get(config.instance)
    active = [b for b in rds_backups if b.status == "active"]
    verify_check.record(
        observed={
            "backup_retention_days": seen.backup_retention_days if seen else None,
            "automated_backups": {b.identifier: b.status for b in rds_backups},
        },
        threshold={"backup_retention_min_days": minimum, "automated_backups": "active"},
        evidence=_evidence(rds_instances)
        + [
            f"automated backup {b.identifier}: {b.status} {b.earliest} .. {b.latest}"
            for b in rds_backups
        ],
    )
    primary = _found(rds_instances, [config.instance])[config.instance]
    assert primary.backup_retention_days >= minimum, (
        f"{config.instance} keeps automated backups {primary.backup_retention_days} d; "
        f"expected >= {minimum} d (backup_retention_min_days)"
    )
    assert active, (
        f"{config.instance} has no active automated backup ({[b.status for b in rds_backups] or 'none'}); "
        "expected one"
    )


@pytest.mark.deep
def test_multi_az(
    rds_instances: InstancesObservation, verify_env: EnvConfig, verify_check: CheckRecord
) -> None:
    """The primary is Multi-AZ (a standby in another AZ takes over on failure)."""
    config = _config(verify_env)
    seen = rds_instances.instances.get(config.instance)
    verify_check.record(
        observed={"multi_az": seen.multi_az if seen else None}, threshold={"multi_az": True}
    )
    primary = _found(rds_instances, [config.instance])[config.instance]
    assert primary.multi_az, f"{config.instance} is single-AZ (MultiAZ false); expected Multi-AZ"


@pytest.mark.deep
def test_encrypted(
    rds_instances: InstancesObservation, verify_env: EnvConfig, verify_check: CheckRecord
) -> None:
    """The primary's and every replica's storage is encrypted."""
    config = _config(verify_env)
    verify_check.record(
        observed={
            "storage_encrypted": {n: i.encrypted for n, i in rds_instances.instances.items()}
        },
        threshold={"storage_encrypted": True},
        evidence=_evidence(rds_instances),
    )
    found = _found(rds_instances, [config.instance, *config.replicas])
    plain = [name for name, instance in found.items() if not instance.encrypted]
    assert not plain, (
        f"storage not encrypted on {', '.join(plain)} (StorageEncrypted false); expected encrypted"
    )
