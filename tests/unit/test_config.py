"""environments.toml validation: every mistake is one line naming file, key path and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from verify.config import ConfigError, load

REPO = Path(__file__).resolve().parents[2]
MINIMAL = """
[environments.prod]
api = { base_url = "https://api.example.test" }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "environments.toml"
    path.write_text(text)
    return path


def error_of(path: Path, env: str = "prod") -> str:
    with pytest.raises(ConfigError) as info:
        load(path, env)
    return str(info.value)


def test_the_shipped_file_validates_every_environment() -> None:
    for name in ("dev", "staging", "prod", "local"):
        env = load(REPO / "environments.toml", name)
        assert env.region == "eu-west-1"
        assert env.configures("ecs") and env.configures("secrets")
    prod = load(REPO / "environments.toml", "prod")
    assert prod.spec.api is not None and prod.spec.api.base_url == "https://api.mobilytics.com"
    assert prod.spec.ecs is not None and set(prod.spec.ecs.services) == {
        "app-api",
        "bullmq-workers",
    }
    assert all(s.startswith("/mobilytics/prod/") for s in prod.spec.secrets.required)  # type: ignore[union-attr]


def test_unknown_environment_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    assert error_of(path, "nope") == f"unknown environment 'nope' in {path}; known: prod"


def test_unknown_key_names_its_path(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + 'ecs = { cluster = "c", servics = { a = {} } }\n')
    assert error_of(path) == (
        f"{path}: environments.prod.ecs.services: required key is missing (and 1 more)"
    )
    path = write(tmp_path, MINIMAL + 'alarms = { prefix = "p-", treshold = 3 }\n')
    assert error_of(path) == f"{path}: environments.prod.alarms.treshold: unknown key"


def test_a_typo_in_another_environment_is_still_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path, MINIMAL + '[environments.dev]\napi = { base_url = "x", helth_path = "/h" }\n'
    )
    assert error_of(path) == f"{path}: environments.dev.api.helth_path: unknown key"


def test_unknown_threshold_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "thresholds = { api_latency_msec = 100 }\n")
    assert error_of(path) == f"{path}: environments.prod.thresholds.api_latency_msec: unknown key"


def test_wrong_value_type_names_the_type_not_the_value(tmp_path: Path) -> None:
    path = write(
        tmp_path, MINIMAL + 'ecs = { cluster = "c", services = { a = { min_tasks = "two" } } }\n'
    )
    assert error_of(path) == (
        f"{path}: environments.prod.ecs.services.a.min_tasks: "
        "Input should be a valid integer, unable to parse string as an integer (got str)"
    )


def test_malformed_toml_gives_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "alarms = { prefix = }\n")
    assert error_of(path) == f"{path}:4:21: malformed TOML: Invalid value"


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    assert error_of(path) == (
        f"environments file not found: {path} (use --environments FILE or VERIFY_ENVIRONMENTS)"
    )


def test_literal_secrets_are_refused_outside_local(tmp_path: Path) -> None:
    body = 'database = { url = "postgres://app:hunter2@db/app" }\n'
    path = write(tmp_path, MINIMAL + body)
    message = error_of(path)
    assert message == (
        f"{path}: environments.prod.database.url: literal secrets are refused outside local; "
        "use secretsmanager:NAME[#key], ssm:NAME or env:VAR"
    )
    assert "hunter2" not in message
    local = write(tmp_path, MINIMAL.replace("prod", "local") + body)
    assert load(local, "local").spec.database is not None


def test_secret_references_are_accepted(tmp_path: Path) -> None:
    body = 'database = { url = "secretsmanager:/mobilytics/prod/app-api/database-url#url" }\n'
    env = load(write(tmp_path, MINIMAL + body), "prod")
    assert env.spec.database is not None


def test_thresholds_merge_defaults_then_environment(tmp_path: Path) -> None:
    text = "[defaults]\nregion = 'eu-central-1'\n[defaults.thresholds]\napi_latency_ms = 500\nmin_azs = 3\n"
    env = load(write(tmp_path, text + MINIMAL + "thresholds = { min_azs = 2 }\n"), "prod")
    assert (env.region, env.thresholds.api_latency_ms, env.thresholds.min_azs) == (
        "eu-central-1",
        500,
        2,
    )


def test_sandbox_references_resolve_to_endpoints(tmp_path: Path) -> None:
    text = '[environments.local]\nsandbox = true\napi = { base_url = "sandbox:api" }\n'
    env = load(write(tmp_path, text), "local")
    resolved = env.resolve_sandbox({"api": "http://127.0.0.1:4000"})
    assert resolved.spec.api is not None and resolved.spec.api.base_url == "http://127.0.0.1:4000"
    with pytest.raises(ConfigError, match="sandbox has no endpoint 'api'"):
        env.resolve_sandbox({})
