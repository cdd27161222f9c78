"""The core of the repo's `local` environment with a rollback table, for the gate tests."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BAD_RELEASE = "2026.12.06-9"


def local_core() -> str:
    """The repo's local environment: its own table, ecs and secrets (no queues, frontends, db)."""
    text = (REPO / "environments.toml").read_text()
    own = text[text.index("[environments.local]") : text.index("[environments.local.redis]")]
    secrets = text[text.index("[environments.local.secrets]") :]
    secrets = secrets[: secrets.index("\n]\n") + 3]  # the table's one key, `required`
    return f'[defaults]\nregion = "eu-west-1"\n\n{own}\n{secrets}\n'


def with_rollback(table: str) -> str:
    return local_core() + "\n[environments.local.rollback]\n" + table
