"""One Redis connection per run and one round trip per call: commands are packed, sent in one
write and their replies read back in order (an error reply is kept, not raised).

Every call sets its socket timeout from the caller (`ctx.timeout(...)`), so a silent server
cannot hold a probe past the run deadline. The password is handed to redis-py only; no text
that leaves here holds it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from verify.probes.errors import ProbeError
from verify.redact import REDACT
from verify.text import one_line

# Replies meaning the server answered and refused us: an observation, not a failure to observe.
REFUSALS = ("WRONGPASS", "NOAUTH", "invalid password", "invalid username-password", "NOPERM")


@dataclass(frozen=True)
class Target:
    """Where Redis is and how to speak to it (no secret in here)."""

    host: str
    port: int
    db: int
    tls: bool
    ca_file: str | None
    verify_tls: bool
    username: str | None

    @property
    def url(self) -> str:
        return f"{'rediss' if self.tls else 'redis'}://{self.host}:{self.port}/{self.db}"


def target_of(url: str, *, ca_file: str | None, verify_tls: bool, username: str | None) -> Target:
    parts = urlsplit(url)
    path = parts.path.strip("/")
    return Target(
        host=parts.hostname or "",
        port=parts.port or 6379,
        db=int(path) if path.isdigit() else 0,
        tls=parts.scheme == "rediss",
        ca_file=ca_file,
        verify_tls=verify_tls,
        username=username,
    )


class Unreachable(Exception):
    """Redis refused us at its door: connection refused or AUTH rejected (one line, no secret)."""


class RedisHandle:
    """One connection, used by one call at a time (probes share it through `ctx.shared`)."""

    def __init__(self, target: Target, password: str | None) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        options: dict[str, Any] = {
            # No retry: a refusal is the answer, and every retry would spend the deadline.
            "retry": Retry(NoBackoff(), 0),
            "host": target.host,
            "port": target.port,
            "db": target.db,
            "username": target.username,
            "password": password,
            "socket_timeout": 5.0,
            "socket_connect_timeout": 5.0,
            "health_check_interval": 0,
        }
        if target.tls:
            connection: Any = redis.SSLConnection(
                ssl_ca_certs=target.ca_file,
                ssl_cert_reqs="required" if target.verify_tls else "none",
                ssl_check_hostname=target.verify_tls,
                **options,
            )
        else:
            connection = redis.Connection(**options)  # type: ignore[no-untyped-call]
        self.target = target
        self._connection = connection
        self._lock = threading.Lock()
        self.round_trips = 0  # writes sent after connecting: what the benchmark counts

    def call(self, commands: list[tuple[Any, ...]], timeout_s: float) -> list[Any]:
        """Send `commands` in one write, return their replies (bytes, ints, lists or errors).

        Raises Unreachable when Redis refuses us, ProbeError when we cannot tell.
        """
        import redis

        with self._lock:
            conn = self._connection
            conn.socket_timeout = timeout_s
            conn.socket_connect_timeout = timeout_s
            sock = getattr(conn, "_sock", None)
            if sock is not None:
                sock.settimeout(timeout_s)
            try:
                if sock is None:
                    conn.connect()
                conn.send_packed_command(conn.pack_commands(commands))
                self.round_trips += 1
                replies: list[Any] = []
                for _ in commands:
                    try:
                        replies.append(conn.read_response())
                    except redis.ResponseError as error:
                        replies.append(error)
                return replies
            except redis.AuthenticationError as error:
                conn.disconnect()
                raise Unreachable(f"AUTH refused ({clean(error)})") from None
            except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
                conn.disconnect()
                raise self.unreachable_or_error(error) from None

    def read(self, commands: list[tuple[Any, ...]], timeout_s: float, what: str) -> list[Any]:
        """`call`, for probes that cannot judge a refusal: it is a ProbeError naming `what`
        (redis.reachable is the check that FAILs on it)."""
        try:
            return self.call(commands, timeout_s)
        except Unreachable as refused:
            raise ProbeError(f"{self.target.url} {what}", f"Redis {refused}") from None

    def unreachable_or_error(self, error: BaseException) -> Exception:
        text = clean(error)
        if isinstance(error, ConnectionRefusedError) or "refused" in text.lower():
            return Unreachable(f"connection refused ({text})")
        if any(word in text for word in REFUSALS):
            return Unreachable(f"AUTH refused ({text})")
        return ProbeError(self.target.url, f"{type(error).__name__}: {text}")

    def close(self) -> None:
        with self._lock:
            self._connection.disconnect()


def clean(error: BaseException) -> str:
    """Library text made safe for a message: one line, secrets masked."""
    return one_line(REDACT(str(error) or type(error).__name__), 200)


def text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
