"""Component `db`: the PostgreSQL database itself, over SQL, as a read-only monitoring role.

Its checks report as `db.*` (`db.connect`, `db.replication_lag[<replica>]`, ...). The URLs are
secret references to a monitoring role's URLs (`IN ROLE pg_monitor` plus SELECT on the
migrations table; README, Least privilege), never the application's.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator

from verify.components.rds import rds_identifier
from verify.config import SecretRef, Table
from verify.probes.errors import ProbeError
from verify.registry import Component, Probe, View

if TYPE_CHECKING:
    from collections.abc import Mapping

    from verify.context import ProbeContext
    from verify.iam import Grant, Scope
    from verify.probes.migrations import MigrationsObservation
    from verify.probes.postgres import PrimaryObservation, ReplicaObservation, Session
    from verify.probes.replication import ReplicaLag

SQL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")


class DbReplicaConfig(Table):
    url: SecretRef  # the monitoring role's URL of this replica's endpoint
    # How the primary's pg_stat_replication names it (default: the replica's name; RDS: see README).
    application_name: str | None = Field(None, min_length=1, max_length=63)
    slot: str | None = Field(None, pattern=r"^[a-z0-9_]{1,63}$")  # or its replication slot
    # primary: bytes and seconds from the primary's pg_stat_replication (needs pg_monitor there);
    # cloudwatch: RDS's ReplicaLag metric, for a replica the primary's session cannot see.
    lag: Literal["primary", "cloudwatch"] = "primary"


class DbConfig(Table):
    url: SecretRef  # the monitoring role's URL of the primary (writer) endpoint
    replicas: dict[str, DbReplicaConfig] = Field({}, max_length=15)  # RDS instance id -> endpoint
    migrations_schema: str = "public"
    migrations_table: str = "_prisma_migrations"
    # The newest migration the release expects applied (a Prisma migration name, or env:VAR).
    expected_migration: str | None = Field(None, min_length=1, max_length=255)
    lag_window_s: int = Field(300, ge=10, le=3600)  # ReplicaLag maximum over this window

    @field_validator("replicas")
    @classmethod
    def _replica_names(cls, value: dict[str, DbReplicaConfig]) -> dict[str, DbReplicaConfig]:
        for name in value:
            rds_identifier(name)
        return value

    @field_validator("migrations_schema", "migrations_table")
    @classmethod
    def _sql_name(cls, value: str) -> str:
        if not SQL_NAME.match(value):
            raise ValueError(f"{value!r} is not a plain SQL identifier")
        return value


class DbThresholds(Table):
    replica_lag_s: float = Field(30, gt=0, le=86_400)
    replica_lag_bytes: int = Field(64 * 1024 * 1024, gt=0, le=1024**4)
    db_connect_ms: float = Field(1000, gt=0, le=60_000)  # connect + SELECT 1 on the primary
    db_timeout_s: float = Field(5, gt=0, le=300)  # connect_timeout and statement_timeout


def _session(ctx: ProbeContext, endpoint: str, reference: str) -> Session:
    """The run's session to `endpoint`, opened once by whichever probe asks first."""
    from verify.probes import postgres

    def build() -> Session:
        url = ctx.secret(reference).reveal()
        budget = ctx.timeout(ctx.thresholds.db_timeout_s)
        return postgres.connect(
            endpoint,
            url,
            timeout_s=budget,
            statement_timeout_s=budget,
            allow_plain=ctx.env.spec.allow_plain_http,
        )

    return ctx.shared(f"db.session:{endpoint}", build, _close)


def _close(session: Session) -> None:
    session.close()


def observe_primary(ctx: ProbeContext) -> PrimaryObservation:
    from verify.probes import postgres

    table: DbConfig = ctx.table
    return postgres.observe_primary(_session(ctx, "primary", table.url))


def observe_migrations(ctx: ProbeContext) -> MigrationsObservation:
    from verify.probes import migrations

    table: DbConfig = ctx.table
    session = _session(ctx, "primary", table.url)
    return migrations.observe_migrations(session, table.migrations_schema, table.migrations_table)


def observe_replicas(ctx: ProbeContext) -> dict[str, ReplicaObservation]:
    """Every configured replica, concurrently: recovery state, receive vs replay, one read."""
    from psycopg import sql

    from verify.probes import postgres
    from verify.probes.aws.calls import call_pool

    table: DbConfig = ctx.table
    read = sql.SQL("SELECT 1 FROM {} LIMIT 1").format(
        sql.Identifier(table.migrations_schema, table.migrations_table)
    )

    def one(name: str, replica: DbReplicaConfig) -> ReplicaObservation:
        return postgres.observe_replica(_session(ctx, name, replica.url), read)

    with call_pool(len(table.replicas)) as pool:
        futures = {name: pool.submit(one, name, r) for name, r in table.replicas.items()}
        return {name: future.result() for name, future in futures.items()}


def observe_replication(ctx: ProbeContext) -> dict[str, ReplicaLag]:
    """Each replica's lag: from the primary's walsenders, or CloudWatch where configured."""
    from verify.probes import replication
    from verify.probes.aws.rds import observe_replica_lag

    table: DbConfig = ctx.table
    try:
        sides: dict[str, ReplicaObservation] = ctx.observe("db.replicas")
    except ProbeError:
        sides = {}  # the primary's view still measures; db.replica_readable reports why
    by_metric = [name for name, r in table.replicas.items() if r.lag == "cloudwatch"]
    metrics = (
        observe_replica_lag(ctx.aws("cloudwatch"), by_metric, table.lag_window_s)
        if by_metric
        else {}
    )
    primary: PrimaryObservation | None = None
    lags = {}
    for name, config in table.replicas.items():
        side = sides.get(name)
        if config.lag == "cloudwatch":
            lags[name] = replication.from_metric(name, metrics.get(name), side)
        else:
            names = (config.application_name or name, config.slot)
            primary = primary or ctx.observe("db.primary")
            lags[name] = replication.from_primary(name, names, primary, side)
    return lags


def expected_migration(table: DbConfig) -> str | None:
    """The migration the release expects (an `env:VAR` reference resolved now), or None."""
    value = table.expected_migration
    if value is None or not value.startswith("env:"):
        return value
    variable = value.removeprefix("env:")
    if not os.environ.get(variable):
        raise ProbeError("db.expected_migration", f"environment variable {variable} is not set")
    return os.environ[variable]


def _one(observations: Mapping[str, Any], params: Mapping[str, Any]) -> Any:
    return observations[params["db_replica_name"]]


def _no_replica(table: DbConfig) -> str | None:
    return None if table.replicas else "db.replicas lists no replica"


def iam(table: DbConfig, scope: Scope) -> list[Grant]:
    """The monitoring role's URLs; RDS's ReplicaLag metric only for `lag = "cloudwatch"`."""
    from verify.iam import Grant, secret_grants

    urls = [table.url, *(r.url for r in table.replicas.values())]
    grants = secret_grants(urls, scope, "DbUrls")
    if any(r.lag == "cloudwatch" for r in table.replicas.values()):
        grants.append(Grant(("cloudwatch:GetMetricData",), why="DbReplicaLag"))
    return grants


COMPONENT = Component(
    name="db",
    table=DbConfig,
    thresholds=DbThresholds,
    checks="verify.checks.test_db",
    probes=(
        Probe("db.primary", observe_primary),
        Probe("db.migrations", observe_migrations),
        Probe("db.replicas", observe_replicas),
        Probe("db.replication", observe_replication),
    ),
    views=(
        View("db_primary", "db.primary"),
        View("db_migrations", "db.migrations"),
        View("db_replicas", "db.replicas"),
        View("db_replica_lag", "db.replication", _one, params=("db_replica_name",)),
    ),
    params={"db_replica_name": lambda table: list(table.replicas)},
    applies={"replication_lag": _no_replica, "replica_readable": _no_replica},
    summary="connect within budget, replicas streaming and readable, migrations applied",
    iam=iam,
)
