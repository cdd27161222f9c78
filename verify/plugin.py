"""pytest hooks of `verify`: options, markers, environment selection, report header, verdict."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from verify import run as run_state

if TYPE_CHECKING:
    from collections.abc import Generator

pytest_plugins = ["verify.fixtures.views", "verify.fixtures.core"]

CHECKS_DIR = Path(__file__).parent / "checks"
MARKERS = {
    "smoke": "gating, fast, read-only checks run right after a deploy",
    "deep": "configuration conformance checks, slower",
    "synthetic": "safe to run every minute as synthetic monitoring",
    "writes": "writes to the platform; runs only where the environment allows writes",
    "settle": "an 'eventually' check: with --settle it re-observes until it passes or time is up",
    "requires_release": "compares against --release; skipped without it",
}
SUITE_MARKERS = ("smoke", "deep", "synthetic")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("verify", "post-deploy verification (verify)")
    group.addoption(
        "--env", dest="verify_env", metavar="NAME", help="environment to verify (else $VERIFY_ENV)"
    )
    group.addoption(
        "--environments",
        dest="verify_environments",
        metavar="FILE",
        help="environments file (else $VERIFY_ENVIRONMENTS, else ./environments.toml)",
    )
    group.addoption(
        "--release",
        dest="verify_release",
        metavar="ID",
        help="the release that must be live (else $VERIFY_RELEASE)",
    )
    group.addoption(
        "--settle",
        dest="verify_settle",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="how long 'eventually' checks may wait for a deploy to converge (default 0: look once)",
    )
    group.addoption(
        "--rollback",
        dest="verify_rollback",
        choices=("off", "dry-run", "auto"),
        help="override the environment's rollback mode",
    )
    group.addoption(
        "--reports-dir",
        dest="verify_reports_dir",
        default="reports",
        metavar="DIR",
        help="where verdict.json and junit.xml go (default: reports)",
    )


def _environments_file(config: pytest.Config) -> Path:
    from verify.config import DEFAULT_ENVIRONMENTS_FILE

    chosen = config.option.verify_environments or os.environ.get("VERIFY_ENVIRONMENTS")
    return Path(chosen or DEFAULT_ENVIRONMENTS_FILE).resolve()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")
    env_name = config.option.verify_env or os.environ.get("VERIFY_ENV")
    if config.option.help or config.option.version:
        return
    if not env_name:
        if any(marker in (config.option.markexpr or "") for marker in SUITE_MARKERS):
            raise pytest.UsageError(_env_required(config))
        return
    from verify.config import ConfigError, load

    path = _environments_file(config)
    try:
        env = load(path, env_name)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    if config.option.verify_settle < 0:
        raise pytest.UsageError(
            f"--settle must be >= 0 seconds, got {config.option.verify_settle:g}"
        )
    config.option.verify_environments = str(path)  # xdist workers get the same file
    config.stash[run_state.RUN] = run_state.Run(
        env=env,
        release=config.option.verify_release or os.environ.get("VERIFY_RELEASE") or None,
        settle_s=config.option.verify_settle,
        rollback_mode=config.option.verify_rollback or env.spec.rollback.mode,
        account_id=env.spec.aws.account_id,
    )
    if config.option.tbstyle == "auto":
        config.option.tbstyle = "line"  # the check's own message says observed vs expected
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args[:] = [str(CHECKS_DIR)]  # `pytest --env=prod -m smoke` runs the packaged checks
    if not hasattr(config, "workerinput"):
        from verify.reporting import VerdictReporter

        reports = Path(config.option.verify_reports_dir)
        if config.option.xmlpath is None:
            config.option.xmlpath = str(reports / "junit.xml")
        config.pluginmanager.register(VerdictReporter(config, reports), "verify-verdict")


def _env_required(config: pytest.Config) -> str:
    from verify.config import ConfigError, environment_names

    try:
        known = ", ".join(environment_names(_environments_file(config))) or "none"
    except ConfigError:
        known = "none (no environments file)"
    return f"--env is required (or VERIFY_ENV); known environments: {known}"


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    run = run_state.current(session.config)
    if run is None or not run.env.spec.sandbox or session.config.option.collectonly:
        return
    from verify.sandbox_link import attach

    attach(session.config, run)


def pytest_report_header(config: pytest.Config) -> list[str]:
    run = run_state.current(config)
    if run is None:
        return []
    from verify.config import CHECKED_COMPONENTS, ROADMAP_COMPONENTS

    env = run.env
    checked = [c for c in CHECKED_COMPONENTS if env.configures(c)]
    later = [c for c in ROADMAP_COMPONENTS if env.configures(c)]
    lines = [
        f"verify: env={env.name} region={env.region or '-'} account={run.account_id or '-'} "
        f"release={run.release or '-'} settle={run.settle_s:g}s rollback={run.rollback_mode}",
        f"verify: checking {', '.join(checked) or 'nothing'} (from {env.source.name})",
    ]
    if later:
        lines.append(f"verify: configured, no checks in this version yet: {', '.join(later)}")
    return lines


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run = run_state.current(config)
    if run is None:
        return
    from verify.identity import mark_check

    for item in items:
        mark_check(item, run)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    run = run_state.current(pyfuncitem.config)
    if run is None or run_state.CHECK_ID not in pyfuncitem.stash:
        return None
    from verify.settle import call_settling

    return True if call_settling(pyfuncitem, run) else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if run_state.CHECK_ID in item.stash and call.excinfo is not None and report.failed:
        from verify.outcomes import classify

        status, message = classify(call.excinfo)
        report.user_properties += [("verify_status", status), ("verify_message", message)]
    return report


def pytest_unconfigure(config: pytest.Config) -> None:
    run: Any = run_state.current(config)
    if run is not None and run.sandbox_started:
        from verify.sandbox_link import detach

        detach(run)
