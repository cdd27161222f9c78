"""environments.toml validation: every mistake is one line naming file, key path and problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verify.config import ConfigError, load, validate_waivers
from verify.registry import discover

REPO = Path(__file__).resolve().parents[2]
REGISTRY = discover()
MINIMAL = """
[environments.prod]
api = { base_url = "https://api.example.test" }
"""


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "environments.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def error_of(path: Path, env: str = "prod") -> str:
    with pytest.raises(ConfigError) as info:
        load(path, env, REGISTRY)
    return str(info.value)


def test_the_shipped_file_validates_every_environment() -> None:
    for name in ("dev", "staging", "prod", "local"):
        env = load(REPO / "environments.toml", name, REGISTRY)
        assert env.region == "eu-west-1"
        assert env.configures("ecs") and env.configures("secrets")
    prod = load(REPO / "environments.toml", "prod", REGISTRY)
    assert prod.table("api").base_url == "https://api.mobilytics.com"
    assert set(prod.table("ecs").services) == {"app-api", "bullmq-workers"}
    assert all(s.startswith("/mobilytics/prod/") for s in prod.table("secrets").required)


def test_unknown_environment_lists_the_known_ones_and_the_near_match(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    assert error_of(path, "nope") == f"unknown environment 'nope' in {path}; known: prod"
    assert error_of(path, "prd") == (
        f"unknown environment 'prd' in {path} (did you mean 'prod'?); known: prod"
    )


def test_unknown_key_names_its_path_and_the_near_match(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + 'ecs = { cluster = "c", servics = { a = {} } }\n')
    assert error_of(path) == (
        f"{path}: environments.prod.ecs.services: required key is missing (and 1 more)"
    )
    path = write(tmp_path, MINIMAL + 'alarms = { prefix = "p-", min_alarm = 3 }\n')
    assert error_of(path) == (
        f"{path}: environments.prod.alarms.min_alarm: unknown key (did you mean 'min_alarms'?)"
    )
    path = write(tmp_path, MINIMAL + 'queue = { names = ["a"] }\n')
    assert error_of(path).startswith(f"{path}: environments.prod.queue: unknown key")


def test_a_typo_in_another_environment_is_still_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        MINIMAL + '[environments.dev]\napi = { base_url = "https://x.test", helth_path = "/h" }\n',
    )
    assert error_of(path) == (
        f"{path}: environments.dev.api.helth_path: unknown key (did you mean 'health_path'?)"
    )


def test_unknown_threshold_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "thresholds = { api_latency_msec = 100 }\n")
    assert error_of(path) == (
        f"{path}: environments.prod.thresholds.api_latency_msec: unknown key "
        "(did you mean 'api_latency_ms'?)"
    )


def test_wrong_value_type_names_the_type_not_the_value(tmp_path: Path) -> None:
    path = write(
        tmp_path, MINIMAL + 'ecs = { cluster = "c", services = { a = { min_tasks = "two" } } }\n'
    )
    assert error_of(path) == (
        f"{path}: environments.prod.ecs.services.a.min_tasks: "
        "Input should be a valid integer, unable to parse string as an integer (got str)"
    )


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (
            "thresholds = { api_latency_ms = inf }",
            "thresholds.api_latency_ms: must be a finite number",
        ),
        (
            "thresholds = { api_latency_ms = nan }",
            "thresholds.api_latency_ms: must be a finite number",
        ),
        (
            "thresholds = { run_deadline_s = 1e308 }",
            "thresholds.run_deadline_s: Input should be less than or equal to 3600 (got float)",
        ),
        (
            "thresholds = { min_azs = 0 }",
            "thresholds.min_azs: Input should be greater than or equal to 1 (got int)",
        ),
        (
            'alarms = { prefix = "p-", min_alarms = 0 }',
            "alarms.min_alarms: Input should be greater than or equal to 1 (got int)",
        ),
    ],
)
def test_numbers_are_finite_and_bounded(tmp_path: Path, line: str, problem: str) -> None:
    path = write(tmp_path, MINIMAL + line + "\n")
    assert error_of(path) == f"{path}: environments.prod.{problem}"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (
            "https://api.example.test/v1#frag",
            "must not contain a #fragment (it would drop the path)",
        ),
        ("ftp://api.example.test", "must start with https:// or http://"),
        (
            "https://user:hunter2@api.example.test",
            "must not carry credentials; use a secret reference",
        ),
        ("api.example.test", "must start with https:// or http://"),
    ],
)
def test_urls_are_refused_when_they_would_mislead(tmp_path: Path, url: str, problem: str) -> None:
    path = write(tmp_path, f'[environments.prod]\napi = {{ base_url = "{url}" }}\n')
    message = error_of(path)
    assert message == f"{path}: environments.prod.api.base_url: {problem}"
    assert "hunter2" not in message


def test_a_token_over_plain_http_off_this_machine_needs_allow_plain_http(tmp_path: Path) -> None:
    body = 'api = { base_url = "http://api.example.test", auth_token = "env:API_TOKEN" }\n'
    path = write(tmp_path, "[environments.prod]\n" + body)
    assert error_of(path) == (
        f"{path}: environments.prod.api: auth_token would travel unencrypted to api.example.test; "
        "use TLS, or set allow_plain_http = true for this environment"
    )
    allowed = write(tmp_path, "[environments.prod]\nallow_plain_http = true\n" + body)
    assert load(allowed, "prod", REGISTRY).table("api").auth_token == "env:API_TOKEN"
    loopback = body.replace("api.example.test", "127.0.0.1:8080")
    assert load(write(tmp_path, "[environments.prod]\n" + loopback), "prod", REGISTRY)


@pytest.mark.parametrize("name", ["pr\x1b[32mod", "has space", "-dash", "x" * 64, "ünï"])
def test_environment_names_are_a_safe_character_set(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, f"[environments.{json.dumps(name)}]\n")  # TOML reads JSON's escapes
    message = error_of(path, name)
    assert message.startswith(f"{path}: environments: name ")
    assert message.endswith("is not allowed (letters, digits, '.', '_' and '-', at most 63)")
    assert "\x1b" not in message


def test_non_utf8_and_pathological_files_are_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, b'[environments.prod]\napi = { base_url = "\xff\xfe" }\n')
    assert error_of(path) == f"{path}: not UTF-8 text (byte 0xff at offset 40)"
    nested = write(tmp_path, "x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert error_of(nested).startswith(f"{path}: malformed TOML")
    huge = write(tmp_path, "# " + "x" * (1024 * 1024 + 10) + "\n")
    assert error_of(huge) == f"{path}: larger than 1024 KiB; not an environments file"


def test_malformed_toml_gives_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "alarms = { prefix = }\n")
    assert error_of(path) == f"{path}:4:21: malformed TOML: Invalid value"


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    assert error_of(path) == (
        f"environments file not found: {path} (use --environments FILE or VERIFY_ENVIRONMENTS)"
    )


def test_literal_secrets_are_refused_outside_local(tmp_path: Path) -> None:
    body = 'api = { base_url = "https://api.example.test", auth_token = "hunter2-token" }\n'
    path = write(tmp_path, "[environments.prod]\n" + body)
    message = error_of(path)
    assert message == (
        f"{path}: environments.prod.api.auth_token: literal secrets are refused outside local; "
        "use secretsmanager:NAME[#key], ssm:NAME or env:VAR"
    )
    assert "hunter2" not in message
    local = write(tmp_path, "[environments.local]\n" + body)
    assert load(local, "local", REGISTRY).table("api").auth_token == "hunter2-token"


def test_thresholds_merge_defaults_then_environment(tmp_path: Path) -> None:
    text = "[defaults]\nregion = 'eu-central-1'\n[defaults.thresholds]\napi_latency_ms = 500\nmin_azs = 3\n"
    env = load(write(tmp_path, text + MINIMAL + "thresholds = { min_azs = 2 }\n"), "prod", REGISTRY)
    assert (env.region, env.thresholds.api_latency_ms, env.thresholds.min_azs) == (  # type: ignore[attr-defined]
        "eu-central-1",
        500,
        2,
    )


def test_sandbox_references_resolve_to_endpoints(tmp_path: Path) -> None:
    text = '[environments.local]\nsandbox = true\napi = { base_url = "sandbox:api" }\n'
    env = load(write(tmp_path, text), "local", REGISTRY)
    resolved = env.resolve_sandbox({"api": "http://127.0.0.1:4000"})
    assert resolved.table("api").base_url == "http://127.0.0.1:4000"
    with pytest.raises(ConfigError, match="the sandbox has no endpoint 'api'"):
        env.resolve_sandbox({})


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("ecs.relase", "'ecs.relase' matches no check (did you mean 'ecs.release'?)"),
        ("*", "'*' waives every check; name the checks it covers"),
        ("nothing.*", "'nothing.*' matches no check"),
    ],
)
def test_waivers_must_name_known_checks_and_not_all(
    tmp_path: Path, pattern: str, problem: str
) -> None:
    waiver = f'waivers = [{{ check = "{pattern}", reason = "r", expires = 2099-01-01 }}]\n'
    path = write(tmp_path, MINIMAL + waiver)
    env = load(path, "prod", REGISTRY)
    with pytest.raises(ConfigError) as info:
        validate_waivers(env, REGISTRY.check_names())
    assert str(info.value) == f"{path}: environments.prod.waivers.0.check: {problem}"


def test_waivers_with_ids_and_patterns_are_accepted(tmp_path: Path) -> None:
    waivers = (
        'waivers = [{ check = "ecs.release[app-api]", reason = "r", expires = 2099-01-01 },'
        ' { check = "alarms.*", reason = "r", expires = 2099-01-01, covers = ["fail", "error"] }]\n'
    )
    env = load(write(tmp_path, MINIMAL + waivers), "prod", REGISTRY)
    validate_waivers(env, REGISTRY.check_names())
    assert [w.covers for w in env.spec.waivers] == [["fail"], ["fail", "error"]]
