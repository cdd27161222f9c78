"""Open a generated Allure report in real Chromium, served over loopback HTTP."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        return


@contextmanager
def served(directory: Path) -> Iterator[str]:
    """The report directory over HTTP on a free loopback port (it loads its data with fetch)."""
    from tests.support.servers import serving

    with serving(functools.partial(_Quiet, directory=str(directory))) as base:
        yield f"{base}/index.html"


def result_id(report: Path, name: str) -> dict[str, Any]:
    """The report's own record of the test result named `name` (the latest, not a retry)."""
    for path in (report / "data" / "test-results").glob("*.json"):
        record = json.loads(path.read_text())
        if record.get("name") == name and not record.get("isRetry"):
            return dict(record)
    raise AssertionError(f"{name} not in the report")


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    from verify.probes.browser import LAUNCH_FLAGS, chromium_path

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=list(LAUNCH_FLAGS)
        )
        try:
            yield browser.new_page()
        finally:
            browser.close()
