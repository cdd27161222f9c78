"""Part `postgres`: a real PostgreSQL 15 primary and streaming replica, and their RDS side.

The primary is initdb'd, the replica is a `pg_basebackup -R -X stream -C -S slot` of it; both
listen on free loopback ports and run as the unprivileged `postgres` user when started as root.
The app's URL and the monitoring role's URLs live only in the sandbox's Secrets Manager. The RDS
side (moto instances, StatusInfos, LatestRestorableTime, the ReplicaLag metric measured from these
servers) is the AWS extension verify.sandbox.rds_ext, loaded into the AWS process.
"""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any, ClassVar

from verify.sandbox import pg_cluster as pg
from verify.sandbox import pg_seed, spec
from verify.sandbox.errors import SandboxError
from verify.sandbox.part import Fault, PartContext, PartState

REPLICA = spec.RDS_REPLICA
SLOT = REPLICA.replace("-", "_")
LAG_CHECK = f"db.replication_lag[{REPLICA}]"
READABLE_CHECK = "db.replica_readable"
FAULTS = (
    Fault(
        "db-down",
        "PostgreSQL primary stopped (connection refused); RDS reports it stopped",
        "db.connect",
        also=("rds.available", "rds.replicas_attached", LAG_CHECK, "db.migrations", "api.health"),
    ),
    Fault(
        "db-auth-wrong",
        "the app role's password changed in PostgreSQL but not in Secrets Manager: /health fails",
        "api.health",
    ),
    Fault(
        "replica-lag", "WAL replay paused on the replica while the primary wrote ~5 MB", LAG_CHECK
    ),
    Fault(
        "replica-detached",
        "the replica's PostgreSQL stopped: not streaming; RDS StatusInfos says replication error",
        "rds.replicas_attached",
        also=(LAG_CHECK, READABLE_CHECK),
    ),
    Fault(
        "pitr-stale", "LatestRestorableTime stuck 2 h ago (log uploads stalled)", "rds.pitr_fresh"
    ),
    Fault(
        "backups-disabled",
        "BackupRetentionPeriod 0: automated backups and LatestRestorableTime gone",
        "rds.backup_retention",
        also=("rds.pitr_fresh",),
    ),
    Fault("not-multi-az", "the primary modified to MultiAZ false", "rds.multi_az"),
    Fault(
        "db-unencrypted",
        "the primary reports StorageEncrypted false (restored from an unencrypted snapshot)",
        "rds.encrypted",
    ),
    Fault(
        "migration-failed",
        f"migration {pg_seed.FAILED.name} failed half way (finished_at NULL, error logs)",
        "db.migrations",
    ),
    Fault(
        "migration-missing",
        f"the release's expected migration {pg_seed.EXPECTED_MIGRATION} is not applied",
        "db.migrations",
    ),
)
FAULT_NAMES = frozenset(f.name for f in FAULTS)
AWS_FAULTS = frozenset({"pitr-stale", "backups-disabled", "not-multi-az", "db-unencrypted"})
SQL_FAULTS = ("db-auth-wrong", "replica-lag", "migration-failed", "migration-missing")
WAL_FILLER_ROWS = 20_000  # about 5 MB of WAL: far past the local replica_lag_bytes (1 MiB)
CATCH_UP_S = 15.0


class Cluster:
    """The running primary and replica a PartState describes."""

    def __init__(self, state: PartState) -> None:
        data = state.data
        self.state = state
        self.runner = pg.Runner(data["os_user"])
        self.root = Path(data["root"])
        self.sockets = self.root / "run"

    def dir(self, node: str) -> Path:
        return self.root / node

    def port(self, node: str) -> int:
        return int(self.state.data["ports"][node])

    def pid(self, node: str) -> int | None:
        pid = self.state.data["processes"].get(node)
        return int(pid) if pid is not None else None

    def up(self, node: str) -> bool:
        pid = self.pid(node)
        return pid is not None and pg.alive(pid, self.dir(node))

    def start(self, node: str) -> None:
        pid = pg.start(self.runner, self.dir(node), self.root / f"{node}.log")
        self.state.data["processes"][node] = pid

    def stop(self, node: str) -> None:
        pid = self.state.data["processes"].pop(node, None)
        if pid is not None:
            pg.stop(pid, self.dir(node))

    def admin(self, node: str = "primary", dbname: str = "postgres") -> Any:
        return pg.admin(self.sockets, self.port(node), self.runner, dbname)

    def wait_caught_up(self, timeout_s: float = CATCH_UP_S) -> None:
        """Until the primary sees the replica streaming and (nearly) every byte replayed."""
        deadline = time.monotonic() + timeout_s
        last = "no answer"
        while time.monotonic() < deadline:
            try:
                with self.admin() as conn:
                    row = conn.execute(
                        "SELECT state, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) "
                        "FROM pg_stat_replication WHERE application_name = %s",
                        (REPLICA,),
                    ).fetchone()
            except Exception as exc:  # the primary is (re)starting: try again
                row, last = None, f"{type(exc).__name__}: {exc}"
            if row is not None:
                last = f"state {row[0]}, {row[1]} bytes behind"
                if row[0] == "streaming" and row[1] is not None and row[1] < 64 * 1024:
                    return
            time.sleep(0.02)
        raise SandboxError(f"replica {REPLICA} did not catch up in {timeout_s:.0f} s ({last})")


def _url(role: str, password: str, port: int, prisma: bool = False) -> str:
    query = "?schema=public" if prisma else ""
    return f"postgresql://{role}:{password}@127.0.0.1:{port}/{pg_seed.DATABASE}{query}"


class PostgresPart:
    """PostgreSQL primary + streaming replica; its faults act on the servers or on RDS."""

    name: ClassVar[str] = "postgres"
    after: ClassVar[tuple[str, ...]] = ()
    serves: ClassVar[tuple[str, ...]] = ("db", "rds")
    faults: ClassVar[tuple[Fault, ...]] = FAULTS
    aws_extension: ClassVar[str | None] = "verify.sandbox.rds_ext:EXTENSION"

    def start(self, ctx: PartContext) -> PartState:
        started = time.monotonic()
        runner = pg.Runner.detect()
        root, temporary = pg.make_root(ctx.dir, runner)
        state = PartState(
            data={
                "root": str(root),
                "root_is_tmp": temporary,
                "os_user": runner.os_user,
                "superuser": runner.superuser,
                "ports": {},
                "processes": {},
                "rds": {
                    "primary": spec.RDS_PRIMARY,
                    "replicas": {REPLICA: {"slot": SLOT, "node": "replica"}},
                },
            }
        )
        cluster = Cluster(state)
        try:
            pg.initdb(runner, cluster.dir("primary"))
            self._listen(cluster, "primary")
            pg.base_backup(
                runner, cluster.sockets, cluster.port("primary"), cluster.dir("replica"), SLOT
            )
            self._listen(cluster, "replica", {"cluster_name": f"'{REPLICA}'"})
            app_password, monitor_password = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
            with cluster.admin() as conn:
                pg_seed.seed_cluster(conn, app_password, monitor_password)
            with cluster.admin(dbname=pg_seed.DATABASE) as conn:
                pg_seed.seed_database(conn)
            cluster.wait_caught_up()
        except BaseException:
            self.stop(state)
            raise
        primary, replica = cluster.port("primary"), cluster.port("replica")
        app_url = _url(pg_seed.APP_ROLE, app_password, primary, prisma=True)
        monitor = {
            "primary": _url(pg_seed.MONITOR_ROLE, monitor_password, primary),
            REPLICA: _url(pg_seed.MONITOR_ROLE, monitor_password, replica),
        }
        state.secrets = {
            spec.DATABASE_URL_SECRET: app_url,
            spec.DATABASE_MONITOR_SECRET: json.dumps(monitor),
        }
        state.endpoints = {
            "postgres": f"postgresql://127.0.0.1:{primary}/{pg_seed.DATABASE}",
            "postgres-replica": f"postgresql://127.0.0.1:{replica}/{pg_seed.DATABASE}",
        }
        # The API's /health logs in as the app does (the URL goes to it on stdin).
        state.data["health"] = {"check": "verify.sandbox.pg_health:check", "url": app_url}
        state.data["start_s"] = round(time.monotonic() - started, 3)
        ctx.progress(
            f"PostgreSQL primary on 127.0.0.1:{primary}, replica on :{replica} "
            f"(ready in {state.data['start_s']:.2f} s)"
        )
        return state

    def _listen(self, cluster: Cluster, node: str, extra: dict[str, str] | None = None) -> None:
        """Start `node` on a free port; once more on another if someone took the port first."""
        for attempt in (1, 2):
            port = pg.free_port()
            conf = pg.server_conf(port, cluster.sockets, extra)
            pg.write_as(cluster.runner, cluster.dir(node) / "postgresql.conf", conf, append=True)
            cluster.state.data["ports"][node] = port
            try:
                cluster.start(node)
                return
            except SandboxError:
                if attempt == 2:
                    raise

    def stop(self, state: PartState) -> None:
        if "root" not in state.data:
            return
        cluster = Cluster(state)
        for node in ("replica", "primary"):
            cluster.stop(node)
        pg.remove_root(cluster.root)

    def health(self, ctx: PartContext, state: PartState) -> str | None:
        cluster = Cluster(state)
        down = [node for node in ("primary", "replica") if not cluster.up(node)]
        return f"PostgreSQL {' and '.join(down)} not running" if down else None

    def apply(self, ctx: PartContext, state: PartState, active: frozenset[str]) -> None:
        """Make `active` true, in any combination: a server a SQL fault needs is brought up for
        the change and goes down again at the end if its own fault says so."""
        cluster = Cluster(state)
        changing = {f for f in SQL_FAULTS if (f in active) != (f in state.faults)}
        if "replica-lag" in active and not cluster.up("replica"):
            changing.add("replica-lag")  # a restarted replica replays again: pause it again
        if (changing or "db-down" not in active) and not cluster.up("primary"):
            cluster.start("primary")
        if ("replica-lag" in changing or "replica-detached" not in active) and not cluster.up(
            "replica"
        ):
            cluster.start("replica")
        for fault in SQL_FAULTS:
            if fault in changing:
                self._sql_fault(cluster, fault, fault in active)
        if not {"db-down", "replica-detached", "replica-lag"} & active:
            cluster.wait_caught_up()
        if "replica-detached" in active:
            cluster.stop("replica")
        if "db-down" in active:
            cluster.stop("primary")
        # The RDS side re-reads the servers and switches its own faults (pitr-stale, ...).
        ctx.aws_control("faults", {"owner": self.name, "active": sorted(active)})
        state.faults = sorted(active)

    def _sql_fault(self, cluster: Cluster, fault: str, wanted: bool) -> None:
        """Switch one SQL fault on or off (idempotent: it reads the rows it changes)."""
        if fault == "db-auth-wrong":
            password = secrets.token_urlsafe(24) if wanted else self._app_password(cluster)
            with cluster.admin() as conn:
                pg_seed.set_password(conn, pg_seed.APP_ROLE, password)
        elif fault == "replica-lag":
            self._replay(cluster, paused=wanted)
        else:
            name = (
                pg_seed.FAILED.name if fault == "migration-failed" else pg_seed.EXPECTED_MIGRATION
            )
            # migration-failed adds its row, migration-missing takes the expected one away.
            row_wanted = wanted if fault == "migration-failed" else not wanted
            with cluster.admin(dbname=pg_seed.DATABASE) as conn:
                present = pg_seed.has_migration(conn, name)
                if row_wanted and not present and fault == "migration-failed":
                    pg_seed.insert_failed(conn)
                elif row_wanted and not present:
                    pg_seed.insert_applied(conn, pg_seed.MIGRATIONS[-1])
                elif present and not row_wanted:
                    conn.execute(
                        'DELETE FROM "_prisma_migrations" WHERE migration_name = %s', (name,)
                    )

    @staticmethod
    def _app_password(cluster: Cluster) -> str:
        from urllib.parse import urlsplit

        password = urlsplit(str(cluster.state.data["health"]["url"])).password
        if not password:
            raise SandboxError("the app's database URL has no password")
        return password

    @staticmethod
    def _replay(cluster: Cluster, *, paused: bool) -> None:
        """Pause WAL replay on the replica and write WAL on the primary; or resume."""
        with cluster.admin("replica") as replica:
            replica.execute(
                "SELECT pg_wal_replay_pause()" if paused else "SELECT pg_wal_replay_resume()"
            )
        if not paused:
            return
        with cluster.admin() as primary:
            primary.execute("CREATE TABLE IF NOT EXISTS sandbox_wal_filler (line text)")
            primary.execute(
                "INSERT INTO sandbox_wal_filler SELECT repeat('x', 200) FROM generate_series(1, %s)",
                (WAL_FILLER_ROWS,),
            )
            primary.execute("TRUNCATE sandbox_wal_filler")

    def active(self, ctx: PartContext, state: PartState) -> frozenset[str]:
        """The faults in effect, read from the servers (and from RDS for its own)."""
        cluster = Cluster(state)
        found = set(state.faults) & set(SQL_FAULTS)  # unreadable while a server is down
        found |= {f for f, node in (("db-down", "primary"), ("replica-detached", "replica"))
                  if not cluster.up(node)}  # fmt: skip
        if cluster.up("replica"):
            found.discard("replica-lag")
            with cluster.admin("replica") as conn:
                paused = conn.execute("SELECT pg_is_wal_replay_paused()").fetchone()
            if paused and paused[0]:
                found.add("replica-lag")
        if cluster.up("primary"):
            found -= {"db-auth-wrong", "migration-failed", "migration-missing"}
            if not _app_login_works(state.data["health"]["url"]):
                found.add("db-auth-wrong")
            with cluster.admin(dbname=pg_seed.DATABASE) as conn:
                if pg_seed.has_migration(conn, pg_seed.FAILED.name):
                    found.add("migration-failed")
                if not pg_seed.has_migration(conn, pg_seed.EXPECTED_MIGRATION):
                    found.add("migration-missing")
        answer = ctx.aws_control("status")
        found |= set(answer["by_owner"].get(self.name, [])) & AWS_FAULTS
        return frozenset(found)


def _app_login_works(url: str) -> bool:
    from verify.sandbox.pg_health import check

    try:
        check({"url": url})
    except RuntimeError:
        return False
    return True
