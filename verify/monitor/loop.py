"""The monitor loop: iterate, publish, alert, record; SIGTERM ends it after the iteration."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from verify.monitor import evidence, history
from verify.monitor.alerts import AlertState
from verify.monitor.iteration import (
    PERMANENT_EXIT_CODES,
    STARTUP_GRACE_S,
    Iteration,
    pytest_command,
    run_iteration,
)
from verify.redact import REDACT
from verify.text import one_line

if TYPE_CHECKING:
    from verify.clients import AwsClients
    from verify.config import EnvConfig

EXIT = {"pass": 0, "fail": 1, "error": 6}


@dataclass
class Options:
    """What `verify monitor` was asked to do."""

    env: str
    environments: Path
    interval_s: float = 60.0
    iterations: int | None = None  # None: until stopped
    markexpr: str = "synthetic"
    alert_after: int | None = None  # None: the environment's monitor.alert_after
    reports_dir: Path = Path("reports")
    pytest_args: tuple[str, ...] = ()


@dataclass
class Stop:
    """Signals received: the first ends the loop after this iteration, the second cuts it."""

    count: int = 0
    previous: dict[int, Any] = field(default_factory=dict)

    def install(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            self.previous[sig] = signal.signal(sig, self._handle)

    def restore(self) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        name = signal.Signals(signum).name
        if self.count == 1:
            say(f"{name}: finishing the current iteration, then exiting")
        else:
            say(f"{name} again: interrupting the current iteration")

    @property
    def requested(self) -> bool:
        return self.count > 0


def say(line: str) -> None:
    """Human lines go to stderr: stdout carries EMF metrics for awslogs."""
    sys.stderr.write(f"verify monitor: {REDACT(line)}\n")
    sys.stderr.flush()


def directory(reports_dir: Path, env: str) -> Path:
    return reports_dir / "monitor" / env


class Monitor:
    """One monitored environment: its config, AWS clients, alert state and history."""

    def __init__(
        self, options: Options, env: EnvConfig, aws: AwsClients, stdout: TextIO = sys.stdout
    ) -> None:
        self.options = options
        self.env = env
        self.aws = aws
        self.stdout = stdout
        self.home = directory(options.reports_dir, options.env)
        self.state_file = self.home / "state.json"
        self.history_file = self.home / "history.jsonl"
        self.alert_after = options.alert_after or env.spec.monitor.alert_after
        self.stop = Stop()
        self.number = self._last_number()

    def _last_number(self) -> int:
        """Iterations are numbered across runs (a --once schedule keeps counting)."""
        last = 0
        for record in history.read(self.history_file):
            value = record.get("iteration")
            if isinstance(value, int):
                last = max(last, value)
        return last

    def run(self, environ: dict[str, str] | None = None) -> int:
        """Iterate until the iterations are done or a signal asks to stop; the last exit code."""
        self.stop.install()
        code = 6
        done = 0
        try:
            while True:
                iteration = self.iterate(environ)
                done += 1
                code = EXIT.get(iteration.verdict, 6)
                if iteration.exit_code in PERMANENT_EXIT_CODES:
                    say(f"the selection cannot run (pytest exit {iteration.exit_code}); stopping")
                    return iteration.exit_code
                if self.stop.requested:
                    break
                if self.options.iterations is not None and done >= self.options.iterations:
                    break
                self._sleep(self.options.interval_s)
                if self.stop.requested:
                    break
        finally:
            self.stop.restore()
        say(f"stopped after {done} iteration(s); history in {self.history_file}")
        return code

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.stop.requested and time.monotonic() < end:
            time.sleep(min(0.1, max(end - time.monotonic(), 0)))

    def iterate(self, environ: dict[str, str] | None = None) -> Iteration:
        """One iteration, published, alerted on and recorded; nothing here raises for the run."""
        self.number += 1
        reports = self.home / "last"
        command = pytest_command(
            self.options.env,
            self.options.environments,
            self.options.markexpr,
            reports,
            self.options.pytest_args,
        )
        timeout = self.env.thresholds.run_deadline_s + STARTUP_GRACE_S
        iteration = run_iteration(
            self.number,
            self.options.env,
            command,
            reports,
            timeout_s=timeout,
            stop_now=lambda: self.stop.count > 1,
            environ=environ,
        )
        record: dict[str, Any] = iteration.to_json()
        kept = evidence.keep(iteration, self.home)
        for check in record["checks"]:
            if check["id"] in kept:
                check["attachments"] = kept[check["id"]]  # relative to the history's directory
        record["metrics"] = self._publish(iteration)
        record["alerts"] = self._alert(iteration)
        history.append(self.history_file, record)
        failing = [s.check for s in iteration.gating if not s.passed]
        shown = f": {', '.join(failing[:5])}" if failing else ""
        say(
            f"iteration {iteration.number} {iteration.verdict.upper()} "
            f"({iteration.success_percent:g}% of {len(iteration.gating)} checks passed) "
            f"in {iteration.duration_s:.1f}s{shown}"
            + ("" if iteration.finished else f" [{one_line(iteration.reason)}]")
        )
        return iteration

    def _publish(self, iteration: Iteration) -> str:
        from verify.monitor import metrics

        mode = self.env.spec.monitor.metrics
        namespace = self.env.spec.monitor.namespace
        try:
            if mode == "emf":
                count = metrics.write_emf(iteration, namespace, self.stdout.write)
                self.stdout.flush()
                return f"emf: {count} documents"
            if mode == "put_metric_data":
                calls = metrics.put_metric_data(iteration, namespace, self.aws.client("cloudwatch"))
                return f"put_metric_data: {calls} call(s)"
        except Exception as exc:  # publishing must never stop the monitor: say it, carry on
            problem = one_line(REDACT(f"{type(exc).__name__}: {exc}"))
            say(f"metrics not published: {problem}")
            return f"error: {problem}"
        return "off"

    def _alert(self, iteration: Iteration) -> list[dict[str, Any]]:
        import fcntl

        from verify.deliver import DeliveryError
        from verify.monitor.notify import send

        self.home.mkdir(parents=True, exist_ok=True)
        # Two --once runs that overlap (a slow task and the next period's) must not both alert.
        with (self.home / "state.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = AlertState.load(self.state_file)
            sent: list[dict[str, Any]] = []
            for event in state.update(iteration, self.alert_after):
                say(event.text())
                try:
                    channels = send(event, self.env, self.aws)
                except DeliveryError as exc:
                    # Not marked as delivered: the next failing iteration tries again.
                    say(f"alert not delivered ({exc}); retrying next iteration")
                    sent.append({**event.to_json(), "delivered": False, "problem": str(exc)})
                    continue
                state.delivered(event)
                sent.append({**event.to_json(), "delivered": True, "channels": channels})
            state.save(self.state_file)
        return sent


def start(options: Options, link: Callable[[EnvConfig], tuple[EnvConfig, AwsClients]]) -> int:
    """Load the environment and run the monitor (the CLI's body, minus option parsing)."""
    from verify.config import load
    from verify.registry import discover

    env, aws = link(load(options.environments, options.env, discover()))
    environ = dict(os.environ)  # after the link: it names the sandbox for the iterations
    environ.setdefault("PYTHONUNBUFFERED", "1")
    monitor = Monitor(options, env, aws)
    return monitor.run(environ)
