"""Component `redis`: the Redis the API and the BullMQ workers share (ElastiCache in the plan).

Its table says where Redis is and how to log in; the `queues` component reads through the same
connection (one per run, `ctx.shared("redis", ...)`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, Field, ValidationInfo, model_validator

from verify.config import SANDBOX_SCHEME, SecretRef, Table, refuse_plain_http
from verify.registry import Component, Probe, View

if TYPE_CHECKING:
    from verify.context import ProbeContext
    from verify.iam import Grant, Scope
    from verify.probes.redisconn import RedisHandle
    from verify.probes.redisinfo import RedisObservation


def _redis_url(value: str) -> str:
    from urllib.parse import urlsplit

    if value.startswith(SANDBOX_SCHEME):
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError("must start with rediss:// (TLS) or redis://")
    if not parts.hostname:
        raise ValueError("has no host")
    if "@" in parts.netloc:
        raise ValueError("must not carry credentials; use auth = a secret reference")
    if parts.query or parts.fragment:
        raise ValueError("must not carry a ?query or #fragment; use the table's keys")
    path = parts.path.strip("/")
    if path and not (path.isdigit() and int(path) < 16):
        raise ValueError("path must be a database number 0-15")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise ValueError("has a malformed port") from None
    return value


RedisUrl = Annotated[str, AfterValidator(_redis_url)]


class RedisConfig(Table):
    url: RedisUrl  # rediss://primary.example.cache.amazonaws.com:6379 (sandbox:redis in local)
    auth: SecretRef | None = None  # the AUTH password (ElastiCache AUTH token or RBAC user's)
    username: str | None = Field(None, min_length=1, max_length=128)  # ACL user; None = default
    tls_ca_file: str | None = Field(None, min_length=1)  # else the system's trust store
    verify_tls: bool = True

    @model_validator(mode="after")
    def _auth_over_tls(self, info: ValidationInfo) -> RedisConfig:
        if self.auth is not None:
            refuse_plain_http(self.url, "auth", info)
        return self


class RedisThresholds(Table):
    redis_timeout_s: float = Field(3, gt=0, le=60)  # one Redis round trip (connect included)
    redis_memory_max_ratio: float = Field(0.8, gt=0, le=1)  # used_memory / maxmemory
    redis_max_evicted_keys: int = Field(0, ge=0, le=1_000_000_000)  # an evicted job is a lost job


def handle(ctx: ProbeContext) -> RedisHandle:
    """The run's one Redis connection (built on first use, closed at the end of the run)."""
    from verify.probes.errors import ProbeError
    from verify.probes.redisconn import RedisHandle, target_of

    table: RedisConfig | None = ctx.env.table("redis")
    if table is None:
        raise ProbeError("redis", "not configured for this environment (the queues checks read it)")

    def build() -> RedisHandle:
        password = ctx.secret(table.auth).reveal() if table.auth else None
        target = target_of(table.url, ca_file=table.tls_ca_file, verify_tls=table.verify_tls,
                           username=table.username)  # fmt: skip
        return RedisHandle(target, password)

    return ctx.shared("redis", build, _close)


def _close(handle: RedisHandle) -> None:
    handle.close()


def observe_server(ctx: ProbeContext) -> RedisObservation:
    from verify.probes import redisinfo

    return redisinfo.observe(handle(ctx), ctx.timeout(ctx.thresholds.redis_timeout_s))


def iam(table: RedisConfig, scope: Scope) -> list[Grant]:
    """Only the AUTH password's secret."""
    from verify.iam import secret_grants

    return secret_grants([table.auth], scope, "RedisAuth")


COMPONENT = Component(
    name="redis",
    table=RedisConfig,
    thresholds=RedisThresholds,
    checks="verify.checks.test_redis",
    probes=(Probe("redis.server", observe_server),),
    views=(View("redis_server", "redis.server"),),
    summary="Redis reachable over TLS with AUTH, primary, memory within maxmemory, no eviction",
    iam=iam,
)
