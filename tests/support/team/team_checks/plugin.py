"""The team's pytest plugin: registers its component through verify's hook."""

from __future__ import annotations

from typing import Any


def pytest_verify_components() -> Any:
    from team_checks.component import COMPONENT

    return COMPONENT
