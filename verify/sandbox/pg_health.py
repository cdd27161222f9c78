"""What the demo API's /health asks of PostgreSQL: log in with the app's URL and SELECT 1.

Runs inside the demo API process (see demo_api.dependency_checks); `config` is the postgres
part's `health` entry, which holds the app's database URL, as the app would get it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters Prisma understands and libpq refuses.
PRISMA_ONLY = frozenset(
    {"schema", "connection_limit", "pool_timeout", "pgbouncer", "socket_timeout"}
)


def libpq_url(url: str) -> str:
    """`url` without Prisma's own query parameters."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in PRISMA_ONLY]
    return urlunsplit(parts._replace(query=urlencode(query)))


def check(config: dict[str, Any]) -> str:
    """ "ok" when the app's role can log in and query; else raises, without the password."""
    import psycopg

    url = str(config["url"])
    password = urlsplit(url).password or ""
    try:
        with psycopg.connect(
            libpq_url(url), connect_timeout=2, application_name="demo-api"
        ) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        message = " ".join(str(exc).split())
        raise RuntimeError(message.replace(password, "***") if password else message) from None
    return "ok"
