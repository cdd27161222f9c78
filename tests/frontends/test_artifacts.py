"""A failing route leaves a screenshot and a Playwright trace under reports/, named in its evidence."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

from tests.conftest import VerifyRun


def test_failing_route_keeps_screenshot_and_trace(
    broken: Callable[[str], None], frontend_run: Callable[..., VerifyRun], tmp_path: Path
) -> None:
    broken("ssr-console-error")
    allure = tmp_path / "allure"
    run = frontend_run("support", f"--alluredir={allure}")
    failed = run.check("frontends.route[support:/dashboard]")
    assert failed["status"] == "failed"
    kept = {
        line.split(":", 1)[0]: Path(line.split(": ", 1)[1].split(" (", 1)[0])
        for line in failed["evidence"]
        if line.startswith(("screenshot:", "trace:"))
    }
    assert set(kept) == {"screenshot", "trace"}, failed["evidence"]
    for path in kept.values():
        assert path.is_file() and path.stat().st_size > 0
        assert run.reports in path.parents
    assert kept["screenshot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with zipfile.ZipFile(kept["trace"]) as trace:
        assert any(name.endswith(".trace") for name in trace.namelist())
    # Only the failing route kept artifacts; Allure got them too.
    folders = {p.name for p in (run.reports / "artifacts").iterdir()}
    assert folders == {"frontends.route_support_dashboard"}
    attached = {p.suffix for p in allure.glob("*-attachment.*")}
    assert {".png", ".zip"} <= attached, sorted(p.name for p in allure.iterdir())
