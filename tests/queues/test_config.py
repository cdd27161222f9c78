"""The redis and queues tables: every mistake is one config error naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from verify.config import ConfigError, load
from verify.registry import discover

REPO = Path(__file__).resolve().parents[2]
GOOD = """
[environments.prod]
redis = { url = "rediss://redis.example.test:6379", auth = "secretsmanager:/x/redis-auth" }
queues = { names = ["emails", "imports"] }
"""


def loaded(tmp_path: Path, text: str, env: str = "prod") -> object:
    path = tmp_path / "environments.toml"
    path.write_text(text)
    return load(path, env, discover())


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        loaded(tmp_path, text)
    return str(info.value)


def test_the_shipped_file_configures_redis_and_queues_everywhere() -> None:
    for name in ("dev", "staging", "prod", "local"):
        env = load(REPO / "environments.toml", name, discover())
        assert env.configures("redis") and env.configures("queues")
        assert env.table("queues").names == ["emails", "imports", "notifications", "mirror-refresh"]
        assert env.table("redis").auth.endswith(f"/mobilytics/{name}/app-api/redis-auth")
    local = load(REPO / "environments.toml", "local", discover())
    assert local.spec.allow_writes and local.table("queues").canary_queue == "notifications"


def test_defaults(tmp_path: Path) -> None:
    env = loaded(tmp_path, GOOD)
    queues = env.table("queues")  # type: ignore[attr-defined]
    assert (queues.prefix, queues.scan_limit, queues.canary_queue) == ("bull", 100, None)
    thresholds = env.thresholds  # type: ignore[attr-defined]
    assert (
        thresholds.queue_oldest_wait_s,
        thresholds.queue_max_failed,
        thresholds.redis_memory_max_ratio,
    ) == (
        120,
        10,
        0.8,
    )


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ('redis = { url = "https://redis.example.test" }', "redis.url: must start with rediss://"),
        ('redis = { url = "rediss://u:pw@redis.example.test" }', "must not carry credentials"),
        ('redis = { url = "rediss://redis.example.test/99" }', "database number"),
        (
            'redis = { url = "rediss://redis.example.test", auth = "hunter2hunter2" }',
            "literal secrets are refused",
        ),
        (
            'redis = { url = "redis://redis.example.test", auth = "env:PW" }',
            "auth would travel unencrypted",
        ),
        ('redis = { url = "rediss://redis.example.test", tls = true }', "redis.tls: unknown key"),
        ("queues = { names = [] }", "queues.names"),
        ('queues = { names = ["a:b"] }', "not a BullMQ queue name"),
        ('queues = { names = ["a", "a"] }', "a queue is listed twice"),
        ('queues = { names = ["a"], canary_queue = "b" }', "canary_queue 'b' is not in names"),
        (
            'queues = { names = ["a"], per_queue = { b = { max_waiting = 1 } } }',
            "per_queue: 'b' is not in names",
        ),
        ('queues = { names = ["a"], per_queue = { a = { oldest_wait_s = 0 } } }', "oldest_wait_s"),
        ('queues = { names = ["a"], per_queue = { a = { oldest_wait = 5 } } }', "unknown key"),
        ('queues = { names = ["a"], scan_limit = 0 }', "scan_limit"),
        ("thresholds = { redis_memory_max_ratio = 1.5 }", "redis_memory_max_ratio"),
        ("thresholds = { queue_oldest_wait_s = -1 }", "queue_oldest_wait_s"),
        ("thresholds = { queue_canary_timeout_s = 1e9 }", "queue_canary_timeout_s"),
    ],
)
def test_mistakes_are_one_line_config_errors(tmp_path: Path, body: str, fragment: str) -> None:
    message = error_of(tmp_path, f"[environments.prod]\n{body}\n")
    assert fragment in message and "\n" not in message, message
    assert "hunter2" not in message and "pw@" not in message


def test_plain_redis_on_loopback_is_allowed(tmp_path: Path) -> None:
    env = loaded(
        tmp_path,
        '[environments.prod]\nredis = { url = "redis://127.0.0.1:6380", auth = "env:PW" }\n',
    )
    assert env.table("redis").url == "redis://127.0.0.1:6380"  # type: ignore[attr-defined]
