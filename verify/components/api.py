"""Component `api`: the API's front door (`GET /health`, `GET /version`) through httpx."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from verify.config import HttpUrl, SecretRef, Table, refuse_plain_http
from verify.registry import Component, Probe, View

if TYPE_CHECKING:
    from verify.context import ProbeContext
    from verify.iam import Grant, Scope
    from verify.probes.http import HttpObservation


class ApiConfig(Table):
    base_url: HttpUrl
    health_path: str = "/health"
    version_path: str = "/version"
    healthy_values: tuple[str, ...] = ("ok", "healthy", "pass", "up")
    version_field: str = "release"
    verify_tls: bool = True
    auth_token: SecretRef | None = None  # sent as `Authorization: Bearer ...` when set

    @field_validator("health_path", "version_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/") or "#" in value:
            raise ValueError("must start with '/' and hold no #fragment")
        return value

    @model_validator(mode="after")
    def _token_over_tls(self, info: ValidationInfo) -> ApiConfig:
        if self.auth_token is not None:
            refuse_plain_http(self.base_url, "auth_token", info)
        return self

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")


class ApiThresholds(Table):
    api_latency_ms: float = Field(1000, gt=0, le=60_000)  # one /health answer, end to end


def _get(ctx: ProbeContext, path: str) -> HttpObservation:
    from verify.clients import http_client
    from verify.probes import http

    api: ApiConfig = ctx.table
    client = ctx.shared("api.http", lambda: http_client(verify_tls=api.verify_tls), _close)
    token = ctx.secret(api.auth_token) if api.auth_token else None
    return http.get(client, api.url(path), ctx.timeout(ctx.thresholds.http_timeout_s), token)


def _close(client: Any) -> None:
    client.close()


def observe_health(ctx: ProbeContext) -> HttpObservation:
    api: ApiConfig = ctx.table
    return _get(ctx, api.health_path)


def observe_version(ctx: ProbeContext) -> HttpObservation:
    api: ApiConfig = ctx.table
    return _get(ctx, api.version_path)


def iam(table: ApiConfig, scope: Scope) -> list[Grant]:
    """Only the bearer token's secret, when one is configured."""
    from verify.iam import secret_grants

    return secret_grants([table.auth_token], scope, "ApiToken")


COMPONENT = Component(
    name="api",
    table=ApiConfig,
    thresholds=ApiThresholds,
    checks="verify.checks.test_api",
    probes=(Probe("api.health", observe_health), Probe("api.version", observe_version)),
    views=(View("api_health", "api.health"), View("api_version", "api.version")),
    summary="GET /health and /version: status, body, latency, release",
    iam=iam,
)
