"""environments.toml -> typed, validated EnvConfig.

Every table forbids unknown keys: a typo must never silently disable a check.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
)

SANDBOX_SCHEME = "sandbox:"
SECRET_SCHEMES = ("secretsmanager:", "ssm:", "env:")
DEFAULT_ENVIRONMENTS_FILE = "environments.toml"


class ConfigError(Exception):
    """A one-line, user-facing configuration problem (file, key path, what is wrong)."""


def _secret_ref(value: str, info: ValidationInfo) -> str:
    """Refuse literal secrets outside `local`: only references may name where a secret lives."""
    if value.startswith(SECRET_SCHEMES) or value.startswith(SANDBOX_SCHEME):
        return value
    if (info.context or {}).get("allow_literal_secrets"):
        return value
    raise ValueError(
        "literal secrets are refused outside local; use secretsmanager:NAME[#key], ssm:NAME or env:VAR"
    )


SecretRef = Annotated[str, AfterValidator(_secret_ref)]


class Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Thresholds(Table):
    """Budgets the checks compare against; `[defaults.thresholds]` then each environment's."""

    api_latency_ms: float = Field(1000, gt=0)
    http_timeout_s: float = Field(5, gt=0)
    aws_timeout_s: float = Field(10, gt=0)
    aws_max_attempts: int = Field(3, ge=1, le=10)
    crash_window_s: float = Field(900, gt=0)
    min_azs: int = Field(2, ge=1)
    settle_poll_s: float = Field(2, gt=0, le=2)
    run_deadline_s: float = Field(120, gt=0)
    # Thresholds of the checks on the roadmap (queues, RDS, frontends), accepted now.
    queue_oldest_wait_s: float = Field(120, gt=0)
    replica_lag_s: float = Field(30, gt=0)
    replica_lag_bytes: int = Field(16 * 1024 * 1024, gt=0)
    pitr_max_age_s: float = Field(600, gt=0)
    backup_retention_min_days: int = Field(7, ge=0)
    cert_min_days: int = Field(14, ge=0)


class AwsConfig(Table):
    region: str | None = None
    profile: str | None = None
    role_arn: str | None = None
    account_id: str | None = None
    endpoint_url: str | None = None  # LocalStack, the sandbox (`sandbox:aws`), a VPC endpoint


class ApiConfig(Table):
    base_url: str
    health_path: str = "/health"
    version_path: str = "/version"
    healthy_values: list[str] = ["ok", "healthy", "pass", "up"]
    version_field: str = "release"
    verify_tls: bool = True
    auth_token: SecretRef | None = None  # sent as `Authorization: Bearer ...` when set

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")


class AlbConfig(Table):
    target_groups: list[str] = Field(min_length=1)  # names or ARNs


class EcsServiceConfig(Table):
    min_tasks: int = Field(1, ge=0)
    container: str | None = None  # the container whose image carries the release


class EcsConfig(Table):
    cluster: str
    services: dict[str, EcsServiceConfig] = Field(min_length=1)


class AlarmsConfig(Table):
    prefix: str = Field(min_length=1)
    min_alarms: int = Field(1, ge=0)  # a prefix typo must not pass as "no alarm firing"


class SecretsConfig(Table):
    required: list[str] = Field(min_length=1)  # Secrets Manager names; `ssm:NAME` for SSM


class RedisConfig(Table):
    url: SecretRef
    auth: SecretRef | None = None
    tls_ca_file: str | None = None


class QueuesConfig(Table):
    names: list[str] = Field(min_length=1)
    prefix: str = "bull"
    max_failed_per_5m: int | None = None


class RdsConfig(Table):
    instance: str
    replicas: list[str] = []


class DatabaseConfig(Table):
    url: SecretRef


class FrontendConfig(Table):
    url: str
    distribution_id: str | None = None
    routes: list[str] = ["/"]


class RollbackHook(Table):
    name: str
    command: list[str] = Field(min_length=1)
    timeout_s: float = Field(300, gt=0)


class RollbackConfig(Table):
    mode: Literal["off", "dry-run", "auto"] = "off"
    hooks: list[RollbackHook] = []


class Waiver(Table):
    check: str  # a check id; `*` matches like a shell pattern
    reason: str = Field(min_length=1)
    expires: date


class Defaults(Table):
    region: str | None = None
    thresholds: Thresholds = Thresholds()


class EnvironmentSpec(Table):
    sandbox: bool = False
    allow_writes: bool = False  # checks marked `writes` (canary jobs, canary rows) run only here
    aws: AwsConfig = AwsConfig()
    api: ApiConfig | None = None
    alb: AlbConfig | None = None
    ecs: EcsConfig | None = None
    alarms: AlarmsConfig | None = None
    secrets: SecretsConfig | None = None
    redis: RedisConfig | None = None
    queues: QueuesConfig | None = None
    rds: RdsConfig | None = None
    database: DatabaseConfig | None = None
    frontends: dict[str, FrontendConfig] = {}
    thresholds: dict[str, Any] = {}  # validated against Thresholds after merging with defaults
    severity: dict[str, Literal["critical", "warning"]] = {}
    rollback: RollbackConfig = RollbackConfig()
    waivers: list[Waiver] = []


class EnvironmentsFile(Table):
    defaults: Defaults = Defaults()
    environments: dict[str, EnvironmentSpec] = Field(min_length=1)


# Components with checks in this release; the others are accepted and listed as not yet checked.
CHECKED_COMPONENTS = ("api", "alb", "ecs", "alarms", "secrets")
ROADMAP_COMPONENTS = ("redis", "queues", "rds", "database", "frontends")


class EnvConfig(BaseModel):
    """One environment, defaults merged in: what the checks and probes read."""

    model_config = ConfigDict(frozen=True)

    name: str
    source: Path
    spec: EnvironmentSpec
    region: str | None
    thresholds: Thresholds

    def configures(self, component: str) -> bool:
        return bool(getattr(self.spec, component, None))

    def severity_of(self, check_id: str) -> str:
        base = check_id.split("[", 1)[0]
        return self.spec.severity.get(check_id) or self.spec.severity.get(base) or "critical"

    def resolve_sandbox(self, endpoints: dict[str, str]) -> EnvConfig:
        """Replace `sandbox:NAME` URLs with the running sandbox's endpoints."""
        data = self.spec.model_dump()

        def swap(value: Any) -> Any:
            if isinstance(value, str) and value.startswith(SANDBOX_SCHEME):
                name = value.removeprefix(SANDBOX_SCHEME)
                if name not in endpoints:
                    raise ConfigError(f"{self.source}: sandbox has no endpoint {name!r}")
                return endpoints[name]
            if isinstance(value, dict):
                return {k: swap(v) for k, v in value.items()}
            if isinstance(value, list):
                return [swap(v) for v in value]
            return value

        spec = EnvironmentSpec.model_validate(swap(data), context={"allow_literal_secrets": True})
        return self.model_copy(update={"spec": spec})


_TOML_POSITION = re.compile(r"^(?P<msg>.*) \(at line (?P<line>\d+), column (?P<col>\d+)\)$")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"environments file not found: {path} (use --environments FILE or VERIFY_ENVIRONMENTS)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_POSITION.match(str(exc))
        if match:
            where = f"{path}:{match['line']}:{match['col']}"
            raise ConfigError(f"{where}: malformed TOML: {match['msg']}") from None
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None


def _describe(error: Any) -> str:
    """One pydantic error -> `key.path: problem` without echoing the value (it may be a secret)."""
    path = ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"{path}: unknown key"
    if kind == "missing":
        return f"{path}: required key is missing"
    got = type(error.get("input")).__name__
    message = error["msg"].removeprefix("Value error, ")
    # Our own validators explain themselves; pydantic's type errors need the type they got.
    return f"{path}: {message}" if kind == "value_error" else f"{path}: {message} (got {got})"


def _validate(model: type[Table], data: Any, path: Path, prefix: str, context: Any) -> Any:
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        errors = exc.errors()
        lead = tuple(prefix.split(".")) if prefix else ()
        first = _describe({**errors[0], "loc": (*lead, *errors[0]["loc"])})
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(f"{path}: {first}{more}") from None


def load(path: Path, env_name: str) -> EnvConfig:
    """Read `path`, validate every environment, return `env_name` merged with the defaults."""
    raw = _read_toml(path)
    envs_raw = raw.get("environments")
    # Validate the whole file (every environment) so a typo anywhere is caught on every run.
    shell = {k: v for k, v in raw.items() if k != "environments"}
    shell["environments"] = (
        {name: {} for name in envs_raw} if isinstance(envs_raw, dict) else envs_raw
    )
    parsed: EnvironmentsFile = _validate(EnvironmentsFile, shell, path, "", None)
    configs: dict[str, EnvConfig] = {}
    for name, body in (envs_raw or {}).items():
        context = {"allow_literal_secrets": name == "local"}
        where = f"environments.{name}"
        spec: EnvironmentSpec = _validate(EnvironmentSpec, body, path, where, context)
        merged = {**parsed.defaults.thresholds.model_dump(), **spec.thresholds}
        thresholds: Thresholds = _validate(Thresholds, merged, path, f"{where}.thresholds", None)
        region = spec.aws.region or parsed.defaults.region
        configs[name] = EnvConfig(
            name=name, source=path, spec=spec, region=region, thresholds=thresholds
        )
    if env_name not in configs:
        known = ", ".join(sorted(configs))
        raise ConfigError(f"unknown environment {env_name!r} in {path}; known: {known}")
    return configs[env_name]


def environment_names(path: Path) -> list[str]:
    """The environments a file defines (for usage errors and `verify envs`)."""
    envs = _read_toml(path).get("environments")
    return sorted(envs) if isinstance(envs, dict) else []


def active_waivers(env: EnvConfig, today: date) -> list[Waiver]:
    return [w for w in env.spec.waivers if w.expires >= today]


def expired_waivers(env: EnvConfig, today: date) -> list[Waiver]:
    return [w for w in env.spec.waivers if w.expires < today]
