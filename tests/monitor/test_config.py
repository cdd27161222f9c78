"""The `monitor` table of environments.toml: validated like every other, one line per problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from verify.config import ConfigError, load
from verify.registry import discover


def monitor_of(tmp_path: Path, table: str) -> object:
    envfile = tmp_path / "environments.toml"
    envfile.write_text(f"[environments.prod]\nmonitor = {table}\n")
    return load(envfile, "prod", discover()).spec.monitor


def test_defaults_are_emf_in_mobilytics_verify_alerting_after_3(tmp_path: Path) -> None:
    monitor = monitor_of(tmp_path, "{}")
    assert (monitor.metrics, monitor.namespace, monitor.alert_after) == (  # type: ignore[attr-defined]
        "emf",
        "Mobilytics/Verify",
        3,
    )


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ('{ metric = "emf" }', "monitor.metric: unknown key (did you mean 'metrics'?)"),
        ("{ alert_after = 0 }", "monitor.alert_after: Input should be greater than or equal to 1"),
        ('{ namespace = "a b" }', "monitor.namespace: String should match pattern"),
        (
            '{ alerts = { sns_topic_arn = "mobilytics-alerts" } }',
            "monitor.alerts.sns_topic_arn: String should match pattern",
        ),
        ('{ alerts = { webhok = "env:X" } }', "monitor.alerts.webhok: unknown key"),
    ],
)
def test_a_bad_monitor_key_is_one_line_naming_it(tmp_path: Path, table: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        monitor_of(tmp_path, table)
    assert f"environments.prod.{problem}" in str(caught.value)
    assert "\n" not in str(caught.value)
