"""Allure results named by check id, with nothing a secret could hide in.

allure-pytest names a result after the test function and records the raw exception text; once a
check's report is final, the result is renamed to the check id and its status text masked.
"""

from __future__ import annotations

from typing import Any

import pytest

from verify.redact import REDACT


class AllurePolish:
    """Registered when Allure results are written: polishes each check's result once final."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, "verify", None)
        if data is not None:
            polish(self.config, report, data["check"])


def polish(config: pytest.Config, report: pytest.TestReport, check_id: str) -> None:
    listener: Any = config.pluginmanager.getplugin("allure_listener")
    if listener is None:
        return
    try:
        uuid = listener._cache.get(report.nodeid)
        result = listener.allure_logger.get_test(uuid) if uuid else None
    except (AttributeError, KeyError):  # another allure-pytest version: keep its own naming
        return
    if result is None:
        return
    result.name = check_id
    details = getattr(result, "statusDetails", None)
    if details is not None:
        details.message = REDACT(details.message or "")
        details.trace = REDACT(details.trace or "")
