"""environments.toml -> typed, validated EnvConfig.

Every table forbids unknown keys (a typo must never silently disable a check), numbers are finite
and bounded, and each problem is one line naming the file, the key path and what is wrong. The
component tables (`api`, `ecs`, ...) and their thresholds come from the registry.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    ValidationError,
    ValidationInfo,
    create_model,
)

from verify.text import printable

if TYPE_CHECKING:
    from verify.actions.models import RollbackConfig
    from verify.registry import Registry

SANDBOX_SCHEME = "sandbox:"
SECRET_SCHEMES = ("secretsmanager:", "ssm:", "env:")
DEFAULT_ENVIRONMENTS_FILE = "environments.toml"
MAX_FILE_BYTES = 1024 * 1024
ENV_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
LOOPBACK_HOSTS = ("localhost", "::1", "[::1]")


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


def is_loopback(host: str | None) -> bool:
    return bool(host) and (host in LOOPBACK_HOSTS or str(host).startswith("127."))


def _url(value: str, schemes: tuple[str, ...]) -> str:
    """A URL of one of `schemes`, no fragment, no credentials in it (or a `sandbox:` name)."""
    from urllib.parse import urlsplit

    if value.startswith(SANDBOX_SCHEME):
        return value
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        raise ValueError(f"must start with {' or '.join(s + '://' for s in schemes)}")
    if not parts.hostname:
        raise ValueError("has no host")
    if "#" in value:
        raise ValueError("must not contain a #fragment (it would drop the path)")
    if "@" in parts.netloc:
        raise ValueError("must not carry credentials; use a secret reference")
    return value


def http_url(value: str) -> str:
    return _url(value, ("https", "http"))


HttpUrl = Annotated[str, AfterValidator(http_url)]


def refuse_plain_http(url: str, what: str, info: ValidationInfo) -> None:
    """A secret sent over http:// to a host off this machine is refused unless allowed."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    allowed = (info.context or {}).get("allow_plain_http")
    if parts.scheme in ("http", "redis") and not is_loopback(parts.hostname) and not allowed:
        raise ValueError(
            f"{what} would travel unencrypted to {parts.hostname}; use TLS, or set "
            "allow_plain_http = true for this environment"
        )


class Table(BaseModel):
    """A table of environments.toml: unknown keys are errors, numbers are finite."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class MapTable(RootModel[Any]):
    """Base of a table whose keys are names (`frontends.support`, ...)."""

    model_config = ConfigDict(frozen=True)


class CoreThresholds(Table):
    """Run-wide budgets; each component adds its own fields (see the registry)."""

    http_timeout_s: float = Field(5, gt=0, le=300)
    aws_timeout_s: float = Field(10, gt=0, le=300)
    aws_max_attempts: int = Field(3, ge=1, le=10)
    min_azs: int = Field(2, ge=1, le=6)
    settle_poll_s: float = Field(2, gt=0, le=2)
    run_deadline_s: float = Field(120, gt=0, le=3600)


class AwsConfig(Table):
    region: str | None = None
    profile: str | None = None
    role_arn: str | None = None
    account_id: str | None = None
    endpoint_url: str | None = None  # LocalStack, the sandbox (`sandbox:aws`), a VPC endpoint


class Waiver(Table):
    check: str = Field(min_length=1)  # a check id or a shell pattern of ids
    reason: str = Field(min_length=1)
    expires: date
    covers: list[Literal["fail", "error"]] = Field(["fail"], min_length=1)


class MonitorAlerts(Table):
    """Where `verify monitor` sends alerts and recoveries (none: stderr only)."""

    sns_topic_arn: str | None = Field(
        None, pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$"
    )
    webhook: SecretRef | None = None  # a webhook URL is a credential: a reference, never literal


class MonitorConfig(Table):
    """`verify monitor`: how results are published and when a failing check alerts."""

    metrics: Literal["emf", "put_metric_data", "off"] = "emf"  # EMF: JSON lines on stdout
    namespace: str = Field("Mobilytics/Verify", pattern=r"^[A-Za-z0-9._/#:-]{1,255}$")
    alert_after: int = Field(3, ge=1, le=1000)  # consecutive failures before one alert
    alerts: MonitorAlerts = MonitorAlerts()


class CoreSpec(Table):
    """The keys of an environment that belong to the run rather than to a component."""

    sandbox: bool = False
    allow_writes: bool = False  # checks marked `writes` (canary jobs, canary rows) run only here
    allow_plain_http: bool = False  # secrets may travel over http:// to hosts off this machine
    release_from: Literal["discover", "sandbox"] = "discover"  # without --release
    aws: AwsConfig = AwsConfig()
    thresholds: dict[str, Any] = {}  # validated against the thresholds model after merging
    severity: dict[str, Literal["critical", "warning"]] = {}
    rollback: RollbackConfig = Field(default_factory=lambda: _rollback_default())
    waivers: list[Waiver] = []
    monitor: MonitorConfig = MonitorConfig()


class Defaults(Table):
    region: str | None = None
    thresholds: dict[str, Any] = {}


class EnvConfig(BaseModel):
    """One environment, defaults merged in: what the checks and probes read."""

    model_config = ConfigDict(frozen=True)

    name: str
    source: Path
    spec: CoreSpec
    region: str | None
    thresholds: CoreThresholds

    def table(self, component: str) -> Any:
        """The component's table, or None when the environment does not configure it."""
        return getattr(self.spec, component, None)

    def configures(self, component: str) -> bool:
        table = self.table(component)
        return table is not None and not (isinstance(table, RootModel) and not table.root)

    def severity_of(self, check_id: str) -> str:
        base = check_id.split("[", 1)[0]
        return self.spec.severity.get(check_id) or self.spec.severity.get(base) or "critical"

    def resolve_sandbox(self, endpoints: dict[str, str]) -> EnvConfig:
        """Replace `sandbox:NAME` values with the running sandbox's endpoints."""
        data = self.spec.model_dump()

        def swap(value: Any) -> Any:
            if isinstance(value, str) and value.startswith(SANDBOX_SCHEME):
                name = value.removeprefix(SANDBOX_SCHEME)
                if name not in endpoints:
                    known = ", ".join(sorted(endpoints))
                    raise ConfigError(
                        f"{self.source}: the sandbox has no endpoint {name!r} (it has: {known})"
                    )
                return endpoints[name]
            if isinstance(value, dict):
                return {k: swap(v) for k, v in value.items()}
            if isinstance(value, list):
                return [swap(v) for v in value]
            return value

        context = {"allow_literal_secrets": True, "allow_plain_http": True}
        spec = type(self.spec).model_validate(swap(data), context=context)
        return self.model_copy(update={"spec": spec})


@cache
def models(registry: Registry) -> tuple[type[CoreSpec], type[CoreThresholds]]:
    """The environment and thresholds models with every registered component's fields."""
    from verify.registry import RegistryError

    tables: dict[str, Any] = {c.name: (c.table | None, None) for c in registry}
    spec = create_model("EnvironmentSpec", __base__=CoreSpec, **tables)
    fields: dict[str, Any] = {}
    for component in registry:
        if component.thresholds is None:
            continue
        for name, info in component.thresholds.model_fields.items():
            if name in CoreThresholds.model_fields or name in fields:
                raise RegistryError(f"component {component.name}: threshold {name!r} is taken")
            fields[name] = (info.annotation, info)
    thresholds = create_model("Thresholds", __base__=CoreThresholds, **fields)
    return spec, thresholds


_TOML_POSITION = re.compile(r"^(?P<msg>.*) \(at line (?P<line>\d+), column (?P<col>\d+)\)$")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(
            f"environments file not found: {path} (use --environments FILE or VERIFY_ENVIRONMENTS)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(
            f"{path}: larger than {MAX_FILE_BYTES // 1024} KiB; not an environments file"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_POSITION.match(str(exc))
        if match:
            where = f"{path}:{match['line']}:{match['col']}"
            raise ConfigError(f"{where}: malformed TOML: {match['msg']}") from None
        raise ConfigError(f"{path}: malformed TOML: {printable(str(exc))}") from None
    except RecursionError:
        raise ConfigError(f"{path}: malformed TOML: nested too deeply") from None


def _describe(error: Any, model: type[BaseModel], lead: tuple[str, ...]) -> str:
    """One pydantic error -> `key.path: problem` without echoing the value (it may be a secret)."""
    path = ".".join(printable(str(part)) for part in (*lead, *error["loc"]))
    kind = error["type"]
    if kind == "extra_forbidden":
        near = _near_key(tuple(error["loc"]), model)
        return f"{path}: unknown key" + (f" (did you mean {near!r}?)" if near else "")
    if kind == "missing":
        return f"{path}: required key is missing"
    got = type(error.get("input")).__name__
    message = error["msg"].removeprefix("Value error, ")
    if kind == "finite_number":
        return f"{path}: must be a finite number"
    # Our own validators explain themselves; pydantic's type errors need the type they got.
    return f"{path}: {message}" if kind == "value_error" else f"{path}: {message} (got {got})"


def _near_key(loc: tuple[Any, ...], model: type[BaseModel] | None) -> str | None:
    """The known key closest to an unknown one, walking `model` along `loc`."""
    current: Any = model
    for part in loc[:-1]:
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return None
        annotation = fields[part].annotation
        current = next(
            (
                a
                for a in getattr(annotation, "__args__", (annotation,))
                if hasattr(a, "model_fields")
            ),
            None,
        )
    fields = getattr(current, "model_fields", None)
    if not fields:
        return None
    near = difflib.get_close_matches(str(loc[-1]), list(fields), n=1, cutoff=0.75)
    return near[0] if near else None


def _validate(model: type[BaseModel], data: Any, path: Path, prefix: str, context: Any) -> Any:
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        errors = exc.errors()
        lead = tuple(prefix.split(".")) if prefix else ()
        first = _describe(errors[0], model, lead)
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(f"{path}: {first}{more}") from None


def _check_names(path: Path, envs: dict[str, Any]) -> None:
    for name in envs:
        if not ENV_NAME.match(name):
            raise ConfigError(
                f"{path}: environments: name {printable(name)!r} is not allowed "
                "(letters, digits, '.', '_' and '-', at most 63)"
            )


def load(path: Path, env_name: str, registry: Registry) -> EnvConfig:
    """Read `path`, validate every environment, return `env_name` merged with the defaults."""
    spec_model, thresholds_model = models(registry)
    raw = _read_toml(path)
    envs_raw = raw.get("environments")
    # Validate the whole file (every environment) so a typo anywhere is caught on every run.
    shell = {k: v for k, v in raw.items() if k != "environments"}
    if not isinstance(envs_raw, dict) or not envs_raw:
        raise ConfigError(
            f"{path}: environments: at least one [environments.NAME] table is required"
        )
    defaults: Defaults = _validate(Defaults, shell.get("defaults", {}), path, "defaults", None)
    extra = set(shell) - {"defaults"}
    if extra:
        raise ConfigError(f"{path}: {printable(sorted(extra)[0])}: unknown key")
    _check_names(path, envs_raw)
    _validate(thresholds_model, defaults.thresholds, path, "defaults.thresholds", None)
    configs: dict[str, EnvConfig] = {}
    for name, body in envs_raw.items():
        where = f"environments.{name}"
        if not isinstance(body, dict):
            raise ConfigError(f"{path}: {where}: must be a table")
        context = {
            "allow_literal_secrets": name == "local" or body.get("sandbox") is True,
            "allow_plain_http": body.get("allow_plain_http") is True,
        }
        spec: CoreSpec = _validate(spec_model, body, path, where, context)
        merged = {**defaults.thresholds, **spec.thresholds}
        thresholds = _validate(thresholds_model, merged, path, f"{where}.thresholds", None)
        region = spec.aws.region or defaults.region
        configs[name] = EnvConfig(
            name=name, source=path, spec=spec, region=region, thresholds=thresholds
        )
    if env_name not in configs:
        raise ConfigError(unknown_environment(env_name, path, sorted(configs)))
    return configs[env_name]


def unknown_environment(env_name: str, path: Path, known: list[str]) -> str:
    near = difflib.get_close_matches(env_name, known, n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    return (
        f"unknown environment {printable(env_name)!r} in {path}{hint}; "
        f"known: {', '.join(known) or 'none'}"
    )


def environment_names(path: Path) -> list[str]:
    """The environments a file defines (for usage errors and `verify envs`)."""
    envs = _read_toml(path).get("environments")
    return sorted(envs) if isinstance(envs, dict) else []


def active_waivers(env: EnvConfig, today: date) -> list[Waiver]:
    return [w for w in env.spec.waivers if w.expires >= today]


def expired_waivers(env: EnvConfig, today: date) -> list[Waiver]:
    return [w for w in env.spec.waivers if w.expires < today]


def validate_waivers(env: EnvConfig, check_names: set[str]) -> None:
    """Every waiver names known checks, and none waives them all (a `*` gate is no gate)."""
    from fnmatch import fnmatchcase

    for index, waiver in enumerate(env.spec.waivers):
        where = f"{env.source}: environments.{env.name}.waivers.{index}.check"
        base = waiver.check.split("[", 1)[0]
        matched = {n for n in check_names if fnmatchcase(n, base) or fnmatchcase(n, waiver.check)}
        if not matched:
            near = difflib.get_close_matches(base, sorted(check_names), n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ConfigError(f"{where}: {printable(waiver.check)!r} matches no check{hint}")
        if len(check_names) > 1 and matched == check_names:
            raise ConfigError(
                f"{where}: {printable(waiver.check)!r} waives every check; name the checks it covers"
            )


def _rollback_default() -> RollbackConfig:
    from verify.actions.models import RollbackConfig

    return RollbackConfig()


def bind_rollback(model: type[BaseModel]) -> None:
    """Complete CoreSpec with the rollback table's model (verify.actions.models calls it)."""
    CoreSpec.model_rebuild(_types_namespace={"RollbackConfig": model})


# The rollback models build on Table and SecretRef above; importing them binds them here.
import verify.actions.models  # noqa: E402, F401
