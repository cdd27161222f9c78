"""PostgreSQL probe: read-only sessions as a monitoring role; replication and Prisma migrations.

Every session is read-only (`default_transaction_read_only`), named `verify` for a DBA's
pg_stat_activity, and bounded: connect_timeout and statement_timeout come from the caller (the
time left in the run). A server refusing connections is an observation (`unreachable`); a
timeout, a failed login or a missing privilege is a ProbeError. No message ever carries the
password: libpq can quote the connection string, so every text goes through the redactor.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from verify.probes.errors import ProbeError
from verify.redact import REDACT
from verify.text import one_line

if TYPE_CHECKING:
    from typing import LiteralString, TypeAlias

    from psycopg import Connection
    from psycopg.sql import SQL, Composed

    Query: TypeAlias = LiteralString | SQL | Composed

APPLICATION_NAME = "verify"
# Query parameters Prisma's URLs carry and libpq refuses.
PRISMA_ONLY = frozenset(
    {
        "schema",
        "connection_limit",
        "pool_timeout",
        "pgbouncer",
        "socket_timeout",
        "statement_cache_size",
    }
)
UNENCRYPTED_SSLMODES = frozenset({"disable", "allow", "prefer"})
LOOPBACK = ("localhost", "::1")


def libpq_url(url: str) -> str:
    """`url` without Prisma's own query parameters (an app's DATABASE_URL works as is)."""
    parts = urlsplit(url)
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in PRISMA_ONLY
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


@dataclass
class Session:
    """A monitoring session to one endpoint, or why there is none (refused: an observation)."""

    endpoint: str  # "primary" or a replica's name
    target: str  # host:port/database, for messages
    conn: Connection[Any] | None
    refused: str | None
    connect_ms: float

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def connect(
    endpoint: str,
    url: str,
    *,
    timeout_s: float,
    statement_timeout_s: float,
    allow_plain: bool = False,
) -> Session:
    """A read-only session as the URL's role; TLS is required off this machine."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        params = conninfo_to_dict(libpq_url(url))
    except psycopg.ProgrammingError as exc:
        raise ProbeError(f"postgres {endpoint}", f"not a PostgreSQL URL: {exc}") from None
    REDACT.add(str(params.get("password") or ""))
    host, port = str(params.get("host") or "localhost"), str(params.get("port") or "5432")
    target = f"{host}:{port}/{params.get('dbname') or params.get('user') or ''}"
    where = f"postgres {endpoint} {target}"
    loopback = host in LOOPBACK or host.startswith(("127.", "/"))
    sslmode = str(params.get("sslmode") or "")
    if not loopback and not sslmode:
        params["sslmode"] = "require"
    elif not loopback and sslmode in UNENCRYPTED_SSLMODES and not allow_plain:
        raise ProbeError(
            where,
            f"sslmode={sslmode} could send the password unencrypted; use sslmode=require or "
            "verify-full, or set allow_plain_http = true for this environment",
        )
    statement_ms = max(1, int(statement_timeout_s * 1000))
    params.update(
        connect_timeout=max(1, math.ceil(timeout_s)),  # libpq counts whole seconds
        application_name=APPLICATION_NAME,
        options=(
            "-c default_transaction_read_only=on "
            f"-c statement_timeout={statement_ms} -c lock_timeout={statement_ms}"
        ),
    )
    started = time.perf_counter()
    try:
        conn = psycopg.connect(make_conninfo("", **params), autocommit=True)
    except psycopg.OperationalError as exc:
        cause = one_line(REDACT(str(exc)), 400)
        if "connection refused" in cause.lower():  # the front door is shut: an observation
            elapsed = (time.perf_counter() - started) * 1000
            return Session(endpoint, target, None, "connection refused", elapsed)
        raise ProbeError(where, cause) from None
    return Session(endpoint, target, conn, None, (time.perf_counter() - started) * 1000)


def query(session: Session, sql: Query, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of `sql` on the session; any database error is a ProbeError without secrets."""
    import psycopg

    if session.conn is None:
        raise ProbeError(
            f"postgres {session.endpoint} {session.target}", session.refused or "no session"
        )
    try:
        return list(session.conn.execute(sql, params or None).fetchall())
    except psycopg.errors.InsufficientPrivilege as exc:
        cause = f"{one_line(str(exc).splitlines()[0])} (grant the monitoring role pg_monitor; see README)"
        raise ProbeError(f"postgres {session.endpoint} {session.target}", cause) from None
    except psycopg.Error as exc:
        raise ProbeError(
            f"postgres {session.endpoint} {session.target}", one_line(str(exc))
        ) from None


@dataclass(frozen=True)
class Sender:
    """One walsender of the primary (a row of pg_stat_replication)."""

    application_name: str
    slot: str | None
    client: str | None
    state: str  # streaming | catchup | startup | backup | stopping
    sync_state: str
    lag_bytes: int | None  # pg_current_wal_lsn() - replay_lsn
    replay_lag_s: float | None  # NULL once caught up on an idle primary


@dataclass(frozen=True)
class PrimaryObservation:
    endpoint: str
    target: str
    unreachable: str | None  # connection refused (the front door is shut)
    connect_ms: float
    query_ms: float  # SELECT 1
    in_recovery: bool | None
    read_only: bool | None  # the session's transaction_read_only
    version: str | None
    senders: tuple[Sender, ...]


SENDERS = (
    "SELECT r.application_name, s.slot_name, host(r.client_addr), r.state, r.sync_state, "
    "pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)::bigint, extract(epoch FROM r.replay_lag) "
    "FROM pg_stat_replication r LEFT JOIN pg_replication_slots s ON s.active_pid = r.pid"
)


def observe_primary(session: Session) -> PrimaryObservation:
    """SELECT 1 (timed), what the server is, and its walsenders."""
    if session.conn is None:
        return PrimaryObservation(
            session.endpoint,
            session.target,
            session.refused,
            session.connect_ms,
            0.0,
            None,
            None,
            None,
            (),
        )
    started = time.perf_counter()
    query(session, "SELECT 1")
    query_ms = (time.perf_counter() - started) * 1000
    in_recovery, read_only, version = query(
        session,
        "SELECT pg_is_in_recovery(), current_setting('transaction_read_only') = 'on', "
        "current_setting('server_version')",
    )[0]
    if not read_only:
        # A pooler in front may drop the startup options: never go on with a writable session.
        raise ProbeError(
            f"postgres {session.endpoint} {session.target}",
            "the session is not read-only (default_transaction_read_only ignored: a pooler?)",
        )
    senders = () if in_recovery else tuple(_sender(row) for row in query(session, SENDERS))
    return PrimaryObservation(
        session.endpoint,
        session.target,
        None,
        session.connect_ms,
        query_ms,
        bool(in_recovery),
        bool(read_only),
        str(version),
        senders,
    )


def _sender(row: tuple[Any, ...]) -> Sender:
    name, slot, client, state, sync_state, lag_bytes, replay_lag = row
    return Sender(
        application_name=str(name or ""),
        slot=slot,
        client=client,
        state=str(state or "unknown"),
        sync_state=str(sync_state or ""),
        lag_bytes=int(lag_bytes) if lag_bytes is not None else None,
        replay_lag_s=float(replay_lag) if replay_lag is not None else None,
    )


@dataclass(frozen=True)
class ReplicaObservation:
    """A replica as it sees itself: in recovery, WAL received vs replayed, readable."""

    endpoint: str
    target: str
    unreachable: str | None
    connect_ms: float
    in_recovery: bool | None
    receiver: str | None  # pg_stat_wal_receiver.status (streaming, ...); None: no receiver
    pending_bytes: int | None  # received, not yet replayed
    paused: bool | None  # WAL replay paused (pg_wal_replay_pause)
    replay_age_s: float | None  # now() - last replayed commit: meaningful only while pending
    read_error: str | None  # reading the migrations table failed (why)


REPLICA_STATE = (
    "SELECT pg_is_in_recovery(), (SELECT status FROM pg_stat_wal_receiver), "
    "pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint, "
    "CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END, "
    "extract(epoch FROM now() - pg_last_xact_replay_timestamp())"
)


def observe_replica(session: Session, table: Query) -> ReplicaObservation:
    """The replica's recovery state and one real read (`table`: `SELECT 1 FROM ... LIMIT 1`)."""
    if session.conn is None:
        return ReplicaObservation(
            session.endpoint, session.target, session.refused, session.connect_ms,
            None, None, None, None, None, None,
        )  # fmt: skip
    import psycopg

    conn = session.conn
    in_recovery, receiver, pending, paused, age = query(session, REPLICA_STATE)[0]
    read_error = None
    try:
        conn.execute(table).fetchall()
    except psycopg.errors.InsufficientPrivilege:
        query(session, table)  # our own missing grant: raise it as a ProbeError (ERROR)
    except psycopg.Error as exc:
        read_error = one_line(REDACT(str(exc)), 300)
    return ReplicaObservation(
        endpoint=session.endpoint,
        target=session.target,
        unreachable=None,
        connect_ms=session.connect_ms,
        in_recovery=bool(in_recovery),
        receiver=receiver,
        pending_bytes=int(pending) if pending is not None else None,
        paused=bool(paused) if paused is not None else None,
        replay_age_s=float(age) if age is not None else None,
        read_error=read_error,
    )
