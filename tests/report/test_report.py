"""`verify report`: an Allure report of the monitor history or of a run, read in real Chromium."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.conftest import REPO, VerifyRun, verify_cli
from tests.report.viewer import chromium, result_id, served
from verify.report.history_results import results_of

HISTORY = [
    {
        "iteration": 1,
        "env": "prod",
        "started_at": "2026-12-06T03:00:00+00:00",
        "verdict": "pass",
        "checks": [
            {"id": "api.health", "status": "passed", "duration_ms": 12.0, "message": ""},
            {"id": "alarms.none_firing", "status": "passed", "duration_ms": 30.0},
        ],
    },
    {
        "iteration": 2,
        "env": "prod",
        "started_at": "2026-12-06T03:01:00+00:00",
        "verdict": "fail",
        "checks": [
            {"id": "api.health", "status": "error", "duration_ms": 5000.0, "message": "timeout"},
            {
                "id": "alarms.none_firing",
                "status": "failed",
                "duration_ms": 30.0,
                "message": "ALARM: mobilytics-prod-api-5xx since 03:00:40",
            },
        ],
    },
]


def verify_report(*args: str) -> subprocess.CompletedProcess[str]:
    # The first use installs the Allure command line (npm ci).
    return verify_cli("report", *args, timeout=900)


def test_history_records_become_allure_results() -> None:
    results = results_of(HISTORY[1])
    by_name = {r["name"]: r for r in results}
    assert by_name["api.health"]["status"] == "broken"  # ERROR: could not observe
    assert by_name["alarms.none_firing"]["status"] == "failed"
    # One history id per check across iterations: the iterations are its retries.
    assert by_name["api.health"]["historyId"] == results_of(HISTORY[0])[0]["historyId"]
    broken = results_of({"iteration": 3, "env": "prod", "verdict": "error", "reason": "killed"})
    assert [(r["name"], r["status"]) for r in broken] == [("monitor.iteration", "broken")]


def test_the_history_report_shows_the_failed_check_in_chromium(tmp_path: Path) -> None:
    from tests.monitor.test_iteration import png

    # The monitor kept the failure's screenshot beside its history (verify/monitor/evidence.py).
    shot = tmp_path / "evidence" / "2" / "alarms.none_firing" / "screenshot.png"
    shot.parent.mkdir(parents=True)
    shot.write_bytes(png())
    records = json.loads(json.dumps(HISTORY))
    records[1]["checks"][1]["attachments"] = ["evidence/2/alarms.none_firing/screenshot.png"]
    history = tmp_path / "history.jsonl"
    history.write_text("".join(json.dumps(r) + "\n" for r in records))
    out = tmp_path / "report"
    done = verify_report(f"--history={history}", f"--output={out}", "--name=verify prod")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out / "index.html")
    failed = result_id(out, "alarms.none_firing")
    assert failed["status"] == "failed"
    pngs = list((out / "data" / "attachments").glob("*.png"))
    assert len(pngs) == 1 and pngs[0].read_bytes() == png()
    with served(out) as url, chromium() as page:
        page.goto(url, wait_until="networkidle")
        page.get_by_text("verify prod").first.wait_for()  # the app renders after its data loads
        page.get_by_text("Failed").first.wait_for()
        overview = page.inner_text("body")
        assert "verify prod" in overview and "Failed" in overview
        page.goto(f"{url}#{failed['id']}", wait_until="networkidle")
        page.get_by_text("ALARM: mobilytics-prod-api-5xx since 03:00:40").first.wait_for()
        shown = page.inner_text("body")
    assert "alarms.none_firing" in shown and "Failed" in shown
    assert "Retries" in shown  # iteration 1 of the same check


def test_a_run_report_shows_the_failed_route_with_its_screenshot(
    broken: Callable[[str], None],
    run_verify: Callable[..., VerifyRun],
    sandbox_state: object,
    tmp_path: Path,
) -> None:
    broken("ssr-console-error")
    allure = tmp_path / "allure"
    run = run_verify(
        "--env=local",
        "-m",
        "smoke",
        "-k",
        "support and route",
        f"--alluredir={allure}",
        str(REPO / "verify" / "checks" / "test_frontends.py"),
    )
    assert run.check("frontends.route[support:/dashboard]")["status"] == "failed"
    out = tmp_path / "report"
    done = verify_report(f"--results={allure}", f"--output={out}")
    assert done.returncode == 0, done.stderr
    failed = result_id(out, "frontends.route[support:/dashboard]")
    assert failed["status"] == "failed"
    with served(out) as url, chromium() as page:
        page.goto(f"{url}#{failed['id']}", wait_until="networkidle")
        page.get_by_text("frontends.route[support:/dashboard]").first.wait_for()
        shown = page.inner_text("body")
        assert "Failed" in shown
        # The failure's screenshot is in the report and loads in the browser.
        pngs = list((out / "data" / "attachments").glob("*.png"))
        assert pngs, sorted(p.name for p in (out / "data" / "attachments").iterdir())
        answer = page.request.get(url.replace("index.html", f"data/attachments/{pngs[0].name}"))
        assert answer.ok and answer.body()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "screenshot" in shown.lower()


def test_report_needs_something_to_show() -> None:
    done = verify_report()
    assert done.returncode == 2
    assert "--results DIR" in done.stderr
