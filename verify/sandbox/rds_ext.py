"""The postgres part's RDS side, loaded into the AWS process (see verify.sandbox.awsext).

Seeds moto with the primary (Multi-AZ, encrypted, 7 days of automated backups) and its read
replica, then keeps the RDS picture true to the real servers: every tick it measures the replica
on the sandbox's PostgreSQL (bytes the primary still waits on, receive vs replay on the replica),
publishes that lag as CloudWatch `ReplicaLag`, advances `LatestRestorableTime` while the primary
runs, and reports the replica's `StatusInfos` from whether the primary really streams to it.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verify.sandbox import fill_rds, spec
from verify.sandbox import pg_cluster as pg
from verify.sandbox.awsext import SimpleExtension
from verify.sandbox.parts.postgres import FAULT_NAMES

if TYPE_CHECKING:
    from verify.sandbox.awsext import OverlayRequest
    from verify.sandbox.world import World

KMS_KEY = f"arn:aws:kms:{spec.REGION}:{spec.ACCOUNT_ID}:key/4f7c1e2a-9d3b-4c51-8e0f-6a2b7d9c3e15"
RETENTION_DAYS = 7
LOG_UPLOAD_S = (
    300  # RDS ships transaction logs every 5 minutes: LatestRestorableTime trails by up to that
)
STALE_S = 7200  # pitr-stale: log uploads stopped two hours ago
DETACHED = (
    "Replication for the Read Replica has stopped: the source instance does not stream WAL to it."
)


class RdsSide:
    """The state behind the fills: faults, measured replication, restorable time."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.config: dict[str, Any] = {}
        self.faults: frozenset[str] = frozenset()
        self.created = 0.0
        self.restorable_at = 0.0
        self.stale_at = 0.0
        self.streaming: dict[str, bool] = {}
        self.lag_s: dict[str, float] = {}
        self._sessions: dict[str, Any] = {}

    @property
    def primary(self) -> str:
        return str(self.config["rds"]["primary"])

    @property
    def replicas(self) -> list[str]:
        return list(self.config["rds"]["replicas"])

    # --- the extension's hooks --------------------------------------------------------------------

    def seed(self, world: World, config: dict[str, Any]) -> None:
        with self.lock:
            self.config = config
            rds = world.clients.client("rds")
            rds.create_db_instance(
                DBInstanceIdentifier=self.primary,
                Engine="postgres",
                EngineVersion="15.8",
                DBInstanceClass="db.r6g.large",
                AllocatedStorage=100,
                StorageType="gp3",
                MasterUsername="mobilytics_admin",
                MasterUserPassword=secrets.token_urlsafe(24),  # never read: moto needs one
                DBName="mobilytics",
                Port=int(config["ports"]["primary"]),
                MultiAZ=True,
                StorageEncrypted=True,
                KmsKeyId=KMS_KEY,
                BackupRetentionPeriod=RETENTION_DAYS,
                AvailabilityZone=spec.AZS[0],
                PubliclyAccessible=False,
            )
            for index, replica in enumerate(self.replicas):
                rds.create_db_instance_read_replica(
                    DBInstanceIdentifier=replica,
                    SourceDBInstanceIdentifier=self.primary,
                    DBInstanceClass="db.r6g.large",
                    AvailabilityZone=spec.AZS[(index + 1) % len(spec.AZS)],
                )
                # A PostgreSQL read replica keeps no automated backups of its own.
                rds.modify_db_instance(
                    DBInstanceIdentifier=replica, BackupRetentionPeriod=0, ApplyImmediately=True
                )
            self.created = self.restorable_at = time.time()
            self._measure()
            self._publish(world)

    def reconcile(self, world: World, active: frozenset[str]) -> None:
        with self.lock:
            before, self.faults = self.faults, active
            rds = world.clients.client("rds")
            if ("backups-disabled" in active) != ("backups-disabled" in before):
                retention = 0 if "backups-disabled" in active else RETENTION_DAYS
                rds.modify_db_instance(
                    DBInstanceIdentifier=self.primary,
                    BackupRetentionPeriod=retention,
                    ApplyImmediately=True,
                )
            if ("not-multi-az" in active) != ("not-multi-az" in before):
                rds.modify_db_instance(
                    DBInstanceIdentifier=self.primary,
                    MultiAZ="not-multi-az" not in active,
                    ApplyImmediately=True,
                )
            if "pitr-stale" in active and "pitr-stale" not in before:
                self.stale_at = time.time() - STALE_S
            # The part changed the servers just before: read them now, not at the next tick.
            self._measure()
            self._publish(world)

    def tick(self, world: World) -> None:
        with self.lock:
            primary_up = self._measure()
            if primary_up:
                now = time.time()
                self.restorable_at = (
                    self.created + (now - self.created) // LOG_UPLOAD_S * LOG_UPLOAD_S
                )
            self._publish(world)

    # --- measuring the real servers --------------------------------------------------------------

    def _session(self, node: str) -> Any:
        session = self._sessions.get(node)
        if session is None or session.closed:
            runner = pg.Runner(self.config["os_user"])
            sockets = Path(self.config["root"]) / "run"
            session = pg.admin(sockets, int(self.config["ports"][node]), runner)
            self._sessions[node] = session
        return session

    def _query(self, node: str, sql: str) -> list[tuple[Any, ...]] | None:
        """Rows of `sql` on `node`, or None when the server does not answer."""
        try:
            return list(self._session(node).execute(sql).fetchall())
        except Exception:  # down or restarting: the measurement says so
            session = self._sessions.pop(node, None)
            if session is not None:
                with contextlib.suppress(Exception):
                    session.close()
            return None

    def _measure(self) -> bool:
        """Replication as the primary and the replicas see it; whether the primary answered.

        The part's own replicas are read on both sides; any other walsender (a replica someone
        added by hand, named by its cluster_name) from the primary's side only.
        """
        rows = self._query(
            "primary",
            "SELECT application_name, state, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), "
            "extract(epoch FROM replay_lag) FROM pg_stat_replication",
        )
        senders = {str(row[0]): row for row in rows or []}
        known = self.config["rds"]["replicas"]
        for replica in {*known, *senders, *self.streaming}:
            sender = senders.get(replica)
            if rows is not None:
                streaming = sender is not None and sender[1] == "streaming"
                self.streaming[replica] = streaming and not (
                    replica in known and "replica-detached" in self.faults
                )
            elif "db-down" in self.faults:
                self.streaming[replica] = False
            if replica in known:
                lag = self._lag_of(known[replica]["node"], sender)
            else:
                lag = _primary_lag(sender) if sender is not None else None
            if lag is None:
                self.lag_s.pop(replica, None)
            else:
                self.lag_s[replica] = lag
        return rows is not None

    def _lag_of(self, node: str, sender: tuple[Any, ...] | None) -> float | None:
        """Seconds behind, measured where it does not lie: only WAL still to replay counts.

        On the replica: the age of the last replayed commit, but only while received WAL waits
        to be replayed (on an idle primary that age grows forever with nothing behind). From the
        primary: its replay_lag, while it still waits on bytes.
        """
        rows = self._query(
            node,
            "SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), "
            "extract(epoch FROM now() - pg_last_xact_replay_timestamp())",
        )
        if rows is None or "replica-detached" in self.faults:
            return None
        pending, age = rows[0]
        lag = float(age or 0) if pending and pending > 0 else 0.0
        return round(max(lag, _primary_lag(sender) or 0.0), 3)

    def _publish(self, world: World) -> None:
        if not self.lag_s:
            return
        world.clients.cloudwatch.put_metric_data(
            Namespace="AWS/RDS",
            MetricData=[
                {
                    "MetricName": "ReplicaLag",
                    "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": replica}],
                    "Value": lag,
                    "Unit": "Seconds",
                }
                for replica, lag in self.lag_s.items()
            ],
        )

    # --- fills --------------------------------------------------------------------------------

    def instance(self, identifier: str) -> fill_rds.InstanceView | None:
        with self.lock:
            if identifier == self.primary:
                stale = "pitr-stale" in self.faults
                return fill_rds.InstanceView(
                    status="stopped" if "db-down" in self.faults else None,
                    restorable_at=self.stale_at if stale else self.restorable_at,
                    encrypted=False if "db-unencrypted" in self.faults else None,
                )
            if identifier in self.streaming:
                replicating = self.streaming.get(identifier, False)
                replication = (
                    fill_rds.Replication("replicating", True)
                    if replicating
                    else fill_rds.Replication("error", False, DETACHED)
                )
                return fill_rds.InstanceView(replication=replication)
            return None

    def backups(self, identifier: str) -> fill_rds.BackupView | None:
        with self.lock:
            if identifier != self.primary:
                return None
            stale = "pitr-stale" in self.faults
            return fill_rds.BackupView(
                present="backups-disabled" not in self.faults,
                earliest=self.created,
                latest=self.stale_at if stale else self.restorable_at,
                retention_days=RETENTION_DAYS,
                arn=f"arn:aws:rds:{spec.REGION}:{spec.ACCOUNT_ID}:db:{identifier}",
                region=spec.REGION,
                kms_key_id=KMS_KEY,
            )


def _primary_lag(sender: tuple[Any, ...] | None) -> float | None:
    """The primary's replay_lag of a walsender while it still waits on bytes, else 0."""
    if sender is None:
        return None
    behind = sender[2] is not None and sender[2] > 0
    return round(float(sender[3]), 3) if behind and sender[3] is not None else 0.0


SIDE = RdsSide()


def _describe(world: World, request: OverlayRequest, payload: bytes) -> bytes:
    return fill_rds.describe_instances(payload, SIDE.instance)


def _backups(world: World, request: OverlayRequest, payload: bytes) -> bytes:
    return fill_rds.automated_backups(payload, SIDE.backups)


EXTENSION = SimpleExtension(
    name="postgres",
    faults=FAULT_NAMES,
    fills={
        ("rds", "DescribeDBInstances"): _describe,
        ("rds", "DescribeDBInstanceAutomatedBackups"): _backups,
    },
    on_seed=SIDE.seed,
    on_reconcile=SIDE.reconcile,
    on_tick=SIDE.tick,
)
