"""Registers the verify plugin for runs from the repo root (a no-op once the package is installed)."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    # Not `pytest_plugins`: this file is also found when the checks are collected from another
    # rootdir (an editable install), where pytest refuses `pytest_plugins` outside the top level.
    pluginmanager.import_plugin("verify.plugin")
