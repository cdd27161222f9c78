"""Hooks other plugins implement to extend verify (added with `pytest_addhooks`)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.hookspec()
def pytest_verify_components() -> Any:
    """Return a Component (or a list of them) to verify alongside the built-in ones.

    A team's pytest plugin (loaded from its pytest11 entry point, or with `-p`) registers its
    component here: its table in environments.toml, its probes, views and checks module.
    Installed packages can instead name the component under the `verify.components` entry
    point, which the `verify` command sees as well.
    """
