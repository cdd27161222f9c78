"""One iteration in a real child process: a verdict is read, anything else is ERROR (fail closed)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from verify.monitor import metrics
from verify.monitor.iteration import Iteration, Sample, read_verdict, run_iteration

T0 = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_hung_run_is_killed_at_the_deadline_and_is_error(tmp_path: Path) -> None:
    result = run_iteration(
        1, "local", python("import time; time.sleep(60)"), tmp_path, timeout_s=0.5
    )
    assert result.verdict == "error" and not result.finished
    assert "cut off" in result.reason
    assert result.duration_s < 10


def test_a_run_that_writes_no_verdict_is_error(tmp_path: Path) -> None:
    (tmp_path / "verdict.json").write_text(json.dumps({"verdict": "pass", "finished_at": "x"}))
    result = run_iteration(1, "local", python("raise SystemExit(3)"), tmp_path, timeout_s=30)
    # The old verdict was removed first: it never stands for this iteration.
    assert (result.verdict, result.finished, result.exit_code) == ("error", False, 3)
    assert "no verdict" in result.reason


def test_a_provisional_verdict_is_error(tmp_path: Path) -> None:
    path = tmp_path / "verdict.json"
    path.write_text(
        json.dumps({"verdict": "error", "reason": "run did not finish", "finished_at": None})
    )
    result = read_verdict(1, "local", T0, 1.0, 2, path)
    assert result.verdict == "error" and not result.finished
    assert "run did not finish" in result.reason


def test_a_final_verdict_becomes_samples(tmp_path: Path) -> None:
    path = tmp_path / "verdict.json"
    checks = [
        {"id": "api.health", "status": "failed", "duration_s": 0.25, "message": "503"},
        {"id": "ecs.release[app-api]", "status": "passed", "duration_s": 0.01},
        {"id": "db.connect", "status": "skipped", "duration_s": 0},
    ]
    path.write_text(json.dumps({"verdict": "fail", "finished_at": "t", "checks": checks}))
    result = read_verdict(1, "local", T0, 1.0, 1, path)
    assert result.finished and result.verdict == "fail"
    assert [s.check for s in result.gating] == ["api.health", "ecs.release[app-api]"]
    assert result.success_percent == 50.0
    assert result.samples[0].duration_ms == 250.0


def test_emf_documents_carry_the_dimensions_and_units() -> None:
    samples = (Sample("api.health", "failed", 250.0), Sample("db.connect", "skipped", 0.0))
    it = Iteration(7, "prod", T0, 1.5, "fail", "", 1, samples)
    lines: list[str] = []
    assert metrics.write_emf(it, "Mobilytics/Verify", lines.append) == 2
    check, overall = (json.loads(line) for line in lines)
    directive = check["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "Mobilytics/Verify"
    assert directive["Dimensions"] == [["Environment", "Check"]]
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {
        "CheckPassed": "Count",
        "CheckDuration": "Milliseconds",
    }
    assert (check["Environment"], check["Check"], check["CheckPassed"], check["CheckDuration"]) == (
        "prod",
        "api.health",
        0.0,
        250.0,
    )
    assert check["_aws"]["Timestamp"] == int(T0.timestamp() * 1000)
    assert overall["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Environment"]]
    assert (overall["SuccessPercent"], overall["Duration"]) == (0.0, 1500.0)


def test_nothing_observed_is_zero_percent_not_a_hundred() -> None:
    it = Iteration(1, "prod", T0, 1.0, "error", "no checks", 6, finished=False)
    assert it.success_percent == 0.0


def png() -> bytes:
    """A real 1x1 PNG."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_a_failures_screenshot_is_kept_per_iteration_and_old_ones_pruned(tmp_path: Path) -> None:
    from verify.monitor import evidence
    from verify.monitor.iteration import artifact_paths

    shot = tmp_path / "last" / "artifacts" / "frontends.route_support" / "screenshot.png"
    shot.parent.mkdir(parents=True)
    shot.write_bytes(png())
    lines = [f"screenshot: {shot} (PNG, open it)", "status 500 from /health"]
    assert artifact_paths(lines) == (str(shot),)
    home = tmp_path / "monitor"
    for number in range(1, 4):
        samples = (
            Sample("frontends.route[support:/]", "failed", 1.0, "x", artifacts=(str(shot),)),
            Sample("api.health", "passed", 1.0, artifacts=(str(shot),)),  # passed: nothing kept
        )
        it = Iteration(number, "local", T0, 1.0, "fail", "", 1, samples)
        kept = evidence.keep(it, home)
        assert kept == {
            "frontends.route[support:/]": [
                f"evidence/{number}/frontends.route_support/screenshot.png"
            ]
        }
        assert (home / kept["frontends.route[support:/]"][0]).read_bytes() == png()
    evidence.prune(home, keep_last=2)
    assert sorted(p.name for p in (home / "evidence").iterdir()) == ["2", "3"]
