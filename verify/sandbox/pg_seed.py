"""What the sandbox's database holds: roles, the `mobilytics` database, Prisma's migrations table.

Passwords reach the server only as SCRAM verifiers, never in clear text, so no server log line
(a failed statement is logged whole) can ever show one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from psycopg import Connection

DATABASE = "mobilytics"
APP_ROLE = "mobilytics_app"
MONITOR_ROLE = "verify_monitor"
MIGRATIONS_TABLE = "_prisma_migrations"

# Prisma's own DDL for its migrations table (prisma migrate creates exactly this).
PRISMA_MIGRATIONS_DDL = """
CREATE TABLE "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)
"""


@dataclass(frozen=True)
class Migration:
    """One migration directory of the app's prisma/migrations and its SQL."""

    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def id(self) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mobilytics/{self.name}"))

    @property
    def started_at(self) -> datetime:
        return datetime.strptime(self.name[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)


MIGRATIONS = (
    Migration(
        "20260903101500_init",
        'CREATE TABLE "User" (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, '
        '"createdAt" TIMESTAMPTZ NOT NULL DEFAULT now());',
    ),
    Migration(
        "20260930142000_add_vehicles",
        'CREATE TABLE "Vehicle" (id TEXT PRIMARY KEY, "ownerId" TEXT NOT NULL REFERENCES "User"(id), '
        "plate TEXT NOT NULL);",
    ),
    Migration(
        "20261021090000_add_trips",
        'CREATE TABLE "Trip" (id TEXT PRIMARY KEY, "vehicleId" TEXT NOT NULL REFERENCES "Vehicle"(id), '
        '"startedAt" TIMESTAMPTZ NOT NULL, "endedAt" TIMESTAMPTZ);',
    ),
    Migration(
        "20261118163000_add_trip_segments",
        'CREATE TABLE "TripSegment" (id TEXT PRIMARY KEY, "tripId" TEXT NOT NULL REFERENCES "Trip"(id), '
        "seq INTEGER NOT NULL, meters INTEGER NOT NULL);",
    ),
)
# The release the sandbox serves expects this one applied (environments.toml names it).
EXPECTED_MIGRATION = MIGRATIONS[-1].name
# A first attempt at add_trips failed and was resolved as rolled back, then applied again:
# a normal history that must pass.
ROLLED_BACK = MIGRATIONS[2]
# migration-failed: the next release's migration died half way (Prisma's P3009 state).
FAILED = Migration(
    "20261126080000_add_trip_segment_index",
    'CREATE UNIQUE INDEX "TripSegment_tripId_seq_key" ON "TripSegment"("tripId", seq);',
)
FAILED_LOGS = (
    "Database error code: 23505\n\nDatabase error:\nERROR: could not create unique index "
    '"TripSegment_tripId_seq_key"\nDETAIL: Key ("tripId", seq)=(t-42, 3) is duplicated.'
)


# What a DBA runs for verify on a real database (README, Least privilege); the sandbox runs the
# same with a generated password (sent as a SCRAM verifier).
LEAST_PRIVILEGE_SQL = (
    f"CREATE ROLE {MONITOR_ROLE} LOGIN PASSWORD '<from Secrets Manager>' IN ROLE pg_monitor;",
    f"GRANT SELECT ON TABLE public.{MIGRATIONS_TABLE} TO {MONITOR_ROLE};",
    f"ALTER ROLE {MONITOR_ROLE} SET default_transaction_read_only = on;",
)


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """PostgreSQL's SCRAM-SHA-256 verifier of `password` (what ALTER ROLE stores)."""
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = base64.b64encode
    return (
        f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}$"
        f"{b64(stored_key).decode()}:{b64(server_key).decode()}"
    )


def set_password(conn: Connection[Any], role: str, password: str) -> None:
    from psycopg import sql

    conn.execute(
        sql.SQL("ALTER ROLE {} PASSWORD {}").format(
            sql.Identifier(role), sql.Literal(scram_verifier(password))
        )
    )


def seed_cluster(conn: Connection[Any], app_password: str, monitor_password: str) -> None:
    """Roles and the database (on the primary, as superuser, in the `postgres` database)."""
    from psycopg import sql

    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(APP_ROLE)))
    # The monitoring role verify's SQL checks use: pg_monitor, nothing else (see README).
    conn.execute(
        sql.SQL("CREATE ROLE {} LOGIN IN ROLE pg_monitor").format(sql.Identifier(MONITOR_ROLE))
    )
    set_password(conn, APP_ROLE, app_password)
    set_password(conn, MONITOR_ROLE, monitor_password)
    # Read-only even if something between verify and the server dropped its session options.
    conn.execute(
        sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(
            sql.Identifier(MONITOR_ROLE)
        )
    )
    # FILE_COPY: the replica copies template1 itself instead of replaying 7 MB of WAL.
    conn.execute(
        sql.SQL("CREATE DATABASE {} OWNER {} STRATEGY FILE_COPY").format(
            sql.Identifier(DATABASE), sql.Identifier(APP_ROLE)
        )
    )


def seed_database(conn: Connection[Any]) -> None:
    """The app's schema as `prisma migrate deploy` leaves it (in `mobilytics`, as superuser)."""
    from psycopg import sql

    with conn.transaction():
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(APP_ROLE)))
        conn.execute(PRISMA_MIGRATIONS_DDL)
        first_try = ROLLED_BACK.started_at - timedelta(minutes=30)
        conn.execute(
            'INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, '
            "rolled_back_at, started_at, applied_steps_count) VALUES (%s, %s, NULL, %s, %s, %s, %s, 0)",
            (
                str(uuid.uuid5(uuid.NAMESPACE_URL, f"mobilytics/{ROLLED_BACK.name}/first-try")),
                ROLLED_BACK.checksum,
                ROLLED_BACK.name,
                "Database error code: 40P01\n\nDatabase error:\nERROR: deadlock detected",
                first_try + timedelta(minutes=5),
                first_try,
            ),
        )
        for migration in MIGRATIONS:
            conn.execute(migration.sql)
            insert_applied(conn, migration)
        conn.execute("RESET ROLE")
        # The one grant the monitoring role needs beyond pg_monitor.
        conn.execute(
            sql.SQL("GRANT SELECT ON TABLE public.{} TO {}").format(
                sql.Identifier(MIGRATIONS_TABLE), sql.Identifier(MONITOR_ROLE)
            )
        )


def insert_applied(conn: Connection[Any], migration: Migration) -> None:
    conn.execute(
        'INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, '
        "rolled_back_at, started_at, applied_steps_count) VALUES (%s, %s, %s, %s, NULL, NULL, %s, 1)",
        (
            migration.id,
            migration.checksum,
            migration.started_at + timedelta(seconds=2),
            migration.name,
            migration.started_at,
        ),
    )


def insert_failed(conn: Connection[Any]) -> None:
    """The state `prisma migrate deploy` leaves when a migration fails half way."""
    conn.execute(
        'INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, '
        "rolled_back_at, started_at, applied_steps_count) "
        "VALUES (%s, %s, NULL, %s, %s, NULL, now() - interval '2 minutes', 0)",
        (FAILED.id, FAILED.checksum, FAILED.name, FAILED_LOGS),
    )


def has_migration(conn: Connection[Any], name: str) -> bool:
    """Some row of `_prisma_migrations` names `name` (applied, failed or rolled back)."""
    row = conn.execute(
        'SELECT count(*) FROM "_prisma_migrations" WHERE migration_name = %s', (name,)
    ).fetchone()
    return bool(row and row[0])
