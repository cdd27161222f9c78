"""One monitor iteration: a `pytest --env=...` run in a child process, read back as samples.

A child process per iteration keeps the monitor's memory flat (nothing a run imports or caches
survives it) and lets a hung run be killed whole; the run's own deadline normally ends it first.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ITERATION_CHECK = "monitor.iteration"  # a pseudo-check: the iteration produced a verdict
# Beyond the run's own deadline (which ends it within 2 s), time for interpreter start-up and
# collection before the monitor kills the child's whole process group.
STARTUP_GRACE_S = 30.0
# pytest's own usage errors: the same selection fails the same way every time.
PERMANENT_EXIT_CODES = frozenset({4, 5})


@dataclass(frozen=True)
class Sample:
    """One check's result in one iteration."""

    check: str
    status: str  # passed | failed | error | skipped
    duration_ms: float
    message: str = ""
    artifacts: tuple[str, ...] = ()  # files a failure left (a screenshot, a trace)

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass(frozen=True)
class Iteration:
    """What one iteration observed; `verdict` is error whenever no final verdict was written."""

    number: int
    env: str
    started_at: datetime
    duration_s: float
    verdict: str
    reason: str
    exit_code: int
    samples: tuple[Sample, ...] = field(default_factory=tuple)
    finished: bool = True  # the run wrote a final verdict

    @property
    def alert_samples(self) -> tuple[Sample, ...]:
        """The samples alerting follows, plus whether the iteration itself could observe."""
        # Observing nothing (no verdict, or a verdict without one check that ran) is a failure.
        status = "passed" if self.finished and self.gating else "error"
        itself = Sample(ITERATION_CHECK, status, 1000.0 * self.duration_s, self.reason)
        return (*self.samples, itself)

    @property
    def gating(self) -> list[Sample]:
        """Samples that count towards SuccessPercent (skips count for nothing)."""
        return [s for s in self.samples if s.status != "skipped"]

    @property
    def success_percent(self) -> float:
        counted = self.gating
        if not counted:
            return 0.0  # nothing observed is not success (fail closed)
        return round(100.0 * sum(s.passed for s in counted) / len(counted), 2)

    def to_json(self) -> dict[str, Any]:
        return {
            "iteration": self.number,
            "env": self.env,
            "started_at": self.started_at.isoformat(),
            "duration_s": round(self.duration_s, 3),
            "verdict": self.verdict,
            "reason": self.reason,
            "exit_code": self.exit_code,
            "success_percent": self.success_percent,
            "checks": [
                {
                    "id": s.check,
                    "status": s.status,
                    "duration_ms": round(s.duration_ms, 1),
                    "message": s.message,
                }
                for s in self.samples
            ],
        }


def pytest_command(
    env: str, environments: Path, markexpr: str, reports: Path, extra: Sequence[str] = ()
) -> list[str]:
    """The child's command line: the checks of `markexpr` with the project's report defaults."""
    return [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "-q",
        f"--env={env}",
        f"--environments={environments}",
        "-m",
        markexpr,
        f"--reports-dir={reports}",
        *extra,
    ]


def run_iteration(
    number: int,
    env: str,
    command: list[str],
    reports: Path,
    *,
    timeout_s: float,
    stop_now: Callable[[], bool] = lambda: False,
    environ: dict[str, str] | None = None,
) -> Iteration:
    """Run `command` (writing `reports/verdict.json`) and read its verdict; never raises for it."""
    reports.mkdir(parents=True, exist_ok=True)
    verdict_file = reports / "verdict.json"
    verdict_file.unlink(missing_ok=True)  # an old verdict must never stand for this iteration
    started_at = datetime.now(UTC)
    started = time.monotonic()
    log = reports / "pytest.log"
    with log.open("wb") as out:
        # Its own session: a Ctrl-C or SIGTERM meant for the monitor does not cut the run short.
        proc = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=environ,
            start_new_session=True,
        )
        cut = _wait(proc, started + timeout_s, stop_now)
    duration = time.monotonic() - started
    code = proc.returncode
    if cut:
        code = code if code is not None else -9
        return Iteration(number, env, started_at, duration, "error", cut, code, finished=False)
    return read_verdict(number, env, started_at, duration, code, verdict_file)


def _wait(proc: subprocess.Popen[bytes], deadline: float, stop_now: Callable[[], bool]) -> str:
    """Wait for the child; kill its process group past the deadline or on a second signal."""
    interrupted = False
    while proc.poll() is None:
        if time.monotonic() >= deadline:
            _kill_group(proc, signal.SIGKILL)
            return "iteration cut off: the run outlived its deadline and was killed"
        if stop_now() and not interrupted:
            # A second stop request: interrupt the run (it writes an ERROR verdict) and move on.
            _kill_group(proc, signal.SIGINT)
            interrupted = True
        time.sleep(0.05)
    return ""


def _kill_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    if sig == signal.SIGKILL:
        proc.wait()


def read_verdict(
    number: int, env: str, started_at: datetime, duration: float, code: int, path: Path
) -> Iteration:
    """The iteration as the run's verdict.json tells it; anything unreadable is ERROR."""

    def error(reason: str) -> Iteration:
        return Iteration(number, env, started_at, duration, "error", reason, code, finished=False)

    try:
        verdict = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return error(f"the run wrote no verdict (exit code {code})")
    except (OSError, ValueError) as exc:
        return error(f"unreadable verdict: {type(exc).__name__}")
    if not isinstance(verdict, dict) or verdict.get("finished_at") is None:
        reason = verdict.get("reason") if isinstance(verdict, dict) else None
        return error(f"the run did not finish: {reason or 'no reason'} (exit code {code})")
    samples = tuple(
        Sample(
            check=str(c.get("id")),
            status=str(c.get("status")),
            duration_ms=1000.0 * float(c.get("duration_s") or 0.0),
            message=str(c.get("message") or ""),
            artifacts=artifact_paths(c.get("evidence")),
        )
        for c in verdict.get("checks", [])
        if isinstance(c, dict)
    )
    outcome = str(verdict.get("verdict"))
    if outcome not in ("pass", "fail", "error"):
        return error(f"unknown verdict {outcome[:20]!r}")
    return Iteration(
        number, env, started_at, duration, outcome, str(verdict.get("reason") or ""), code, samples
    )


ARTIFACT_KINDS = ("screenshot:", "trace:")


def artifact_paths(evidence: Any) -> tuple[str, ...]:
    """The files named by `screenshot: PATH (how)` / `trace: PATH (how)` evidence lines."""
    if not isinstance(evidence, list):
        return ()
    paths = []
    for line in evidence:
        if isinstance(line, str) and line.startswith(ARTIFACT_KINDS):
            paths.append(line.split(": ", 1)[1].split(" (", 1)[0])
    return tuple(paths)
