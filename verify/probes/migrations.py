"""Prisma migrations probe: what `_prisma_migrations` says was applied, failed or left unfinished.

Prisma writes one row per attempt: `finished_at` set once applied, `rolled_back_at` set when an
operator resolved a failure as rolled back (`prisma migrate resolve --rolled-back`). A row with
neither is a migration that failed (its `logs` hold the error) or is still running: either way
`prisma migrate deploy` stops there (P3009), so the release's schema is not what it expects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from verify.probes.postgres import query

if TYPE_CHECKING:
    from verify.probes.postgres import Session

MAX_ROWS = 10_000


@dataclass(frozen=True)
class MigrationsObservation:
    endpoint: str
    target: str
    table: str  # schema.table
    unreachable: str | None  # connection refused
    exists: bool
    applied: tuple[str, ...]  # finished and not rolled back, by name (oldest first)
    failed: tuple[tuple[str, str], ...]  # (name, first line of its logs)
    unfinished: tuple[str, ...]  # started, no error logged, not finished
    rolled_back: tuple[str, ...]  # attempts resolved as rolled back (history, not a failure)

    @property
    def latest(self) -> str | None:
        return self.applied[-1] if self.applied else None


def observe_migrations(session: Session, schema: str, table: str) -> MigrationsObservation:
    """Read every row of `schema.table` (one query; a missing table is an observation)."""
    from psycopg import sql

    name = f"{schema}.{table}"
    if session.conn is None:
        return MigrationsObservation(
            session.endpoint, session.target, name, session.refused, False, (), (), (), ()
        )
    found = query(
        session,
        "SELECT to_regclass(format('%%I.%%I', %s::text, %s::text)) IS NOT NULL",
        (schema, table),
    )
    if not found[0][0]:
        return MigrationsObservation(
            session.endpoint, session.target, name, None, False, (), (), (), ()
        )
    rows = query(
        session,
        sql.SQL(
            "SELECT migration_name, finished_at IS NOT NULL, rolled_back_at IS NOT NULL, "
            "coalesce(left(logs, 300), '') FROM {} ORDER BY migration_name, started_at LIMIT {}"
        ).format(sql.Identifier(schema, table), sql.Literal(MAX_ROWS)),
    )
    applied, failed, unfinished, rolled_back = [], [], [], []
    for migration, finished, was_rolled_back, logs in rows:
        if was_rolled_back:
            rolled_back.append(migration)
        elif finished:
            applied.append(migration)
        elif logs.strip():
            failed.append((migration, _error_line(logs)))
        else:
            unfinished.append(migration)
    return MigrationsObservation(
        session.endpoint,
        session.target,
        name,
        None,
        True,
        tuple(sorted(set(applied))),
        tuple(failed),
        tuple(unfinished),
        tuple(rolled_back),
    )


def _error_line(logs: str) -> str:
    """The `ERROR: ...` line of Prisma's logs (DETAIL lines can quote row values: left out)."""
    lines = [line.strip() for line in logs.splitlines() if line.strip()]
    return next((line for line in lines if line.startswith("ERROR")), lines[0])[:200]
