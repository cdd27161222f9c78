"""pytest hooks of `verify`: options, markers, environment selection, report header, verdict."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from verify import run as run_state

if TYPE_CHECKING:
    from collections.abc import Generator

pytest_plugins = ["verify.fixtures.core"]

CHECKS_DIR = Path(__file__).parent / "checks"
MAX_SETTLE_S = 3600
MARKERS = {
    "smoke": "gating, fast, read-only checks run right after a deploy",
    "deep": "configuration conformance checks, slower",
    "synthetic": "safe to run every minute as synthetic monitoring",
    "writes": "writes to the platform; runs only where the environment allows writes",
    "settle": "an 'eventually' check: with --settle it re-observes until it passes or time is up",
    "requires_release": "compares against the release that must be live (--release or discovered)",
}
SUITE_MARKERS = ("smoke", "deep", "synthetic")


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from verify import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


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
        help="the release that must be live (else $VERIFY_RELEASE; else the sandbox's for "
        "local; else discovered from the running task definition)",
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
        "--codedeploy-deployment-id",
        dest="verify_codedeploy_deployment_id",
        metavar="ID",
        help="the codedeploy hook's deployment (else $VERIFY_CODEDEPLOY_DEPLOYMENT_ID)",
    )
    group.addoption(
        "--codedeploy-hook-execution-id",
        dest="verify_codedeploy_hook_execution_id",
        metavar="ID",
        help="its lifecycle hook execution (else $VERIFY_CODEDEPLOY_HOOK_EXECUTION_ID)",
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
    suite = any(marker in (config.option.markexpr or "") for marker in SUITE_MARKERS)
    if config.option.help or config.option.version or not (env_name or suite):
        return
    controller = not hasattr(config, "workerinput")
    reports = Path(config.option.verify_reports_dir)
    if controller and not config.option.collectonly:
        from verify.reporting import write_provisional

        # First, before anything can fail: no old PASS survives a run that does not finish.
        write_provisional(reports, env_name, "run did not finish")
    try:
        run = _start_run(config, env_name, reports)
    except pytest.UsageError as error:
        if controller and not config.option.collectonly:
            from verify.reporting import write_provisional

            write_provisional(reports, env_name, f"usage error: {error}")
        raise
    config.stash[run_state.RUN] = run
    from verify.fixtures.views import view_plugin
    from verify.redact import install_log_redaction

    install_log_redaction()
    config.pluginmanager.register(view_plugin(run.registry), "verify-views")
    if config.pluginmanager.has_plugin("allure_listener") or config.getoption(
        "allure_report_dir", None
    ):
        from verify.allure import AllurePolish

        config.pluginmanager.register(AllurePolish(config), "verify-allure")
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        # `pytest --env=prod -m smoke` runs the checks of every registered component.
        config.args[:] = sorted({str(c.checks_file) for c in run.registry})
    if controller:
        from verify.reporting import VerdictReporter

        config.pluginmanager.register(VerdictReporter(config), "verify-verdict")


def _start_run(config: pytest.Config, env_name: str | None, reports: Path) -> run_state.Run:
    """Everything a run needs before collection; a UsageError (exit 4) for any bad input."""
    from verify.config import ConfigError, load, validate_waivers
    from verify.context import Deadline
    from verify.registry import RegistryError, discover

    if not env_name:
        raise pytest.UsageError(_env_required(config))
    settle = config.option.verify_settle
    if not math.isfinite(settle) or not 0 <= settle <= MAX_SETTLE_S:
        raise pytest.UsageError(f"--settle must be 0 to {MAX_SETTLE_S} seconds, got {settle:g}")
    path = _environments_file(config)
    try:
        registry = discover(config.hook.pytest_verify_components())
        env = load(path, env_name, registry)
        validate_waivers(env, registry.check_names())
    except (ConfigError, RegistryError) as exc:
        raise pytest.UsageError(str(exc)) from None
    config.option.verify_environments = str(path)  # xdist workers get the same file
    release, source = _release(config)
    return run_state.Run(
        env=env,
        registry=registry,
        release=release,
        release_source=source,
        settle_s=settle,
        rollback_mode=config.option.verify_rollback or env.spec.rollback.mode,
        deadline=Deadline(env.thresholds.run_deadline_s),
        reports_dir=reports,
        account_id=env.spec.aws.account_id,
    )


def _release(config: pytest.Config) -> tuple[str | None, str]:
    if config.option.verify_release:
        return config.option.verify_release, "--release"
    if os.environ.get("VERIFY_RELEASE"):
        return os.environ["VERIFY_RELEASE"], "$VERIFY_RELEASE"
    return None, ""


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
    env = run.env
    checked = [c.name for c in run.registry if env.configures(c.name)]
    absent = [c.name for c in run.registry if not env.configures(c.name)]
    release = f"{run.release} ({run.release_source})" if run.release else "discovered at run time"
    lines = [
        f"verify: env={env.name} region={env.region or '-'} account={run.account_id or '-'} "
        f"settle={run.settle_s:g}s deadline={run.deadline.seconds:g}s rollback={run.rollback_mode}",
        f"verify: release {release}",
        f"verify: checking {', '.join(checked) or 'nothing'} (from {env.source.name})",
    ]
    if absent:
        lines.append(f"verify: not configured here: {', '.join(absent)}")
    return lines


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> Any:
    if run_state.current(parent.config) is None:
        return None
    from verify.identity import make_module

    return make_module(parent, module_path, run_state.current(parent.config).registry)  # type: ignore[union-attr]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    run = run_state.current(metafunc.config)
    if run is not None:
        from verify.identity import generate_params

        generate_params(metafunc, run)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run = run_state.current(config)
    if run is None:
        return
    from verify.identity import mark_check

    for item in items:
        mark_check(item, run)
    # The plugin's own skips first: -x or Ctrl-C cannot turn "not configured" into "not run".
    items.sort(key=lambda item: run_state.SKIP_REASON not in item.stash)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    run = run_state.current(item.config)
    own_skip = run_state.SKIP_REASON in item.stash
    if (
        run is not None
        and run_state.CHECK_ID in item.stash
        and not own_skip
        and run.deadline.passed()
    ):
        from verify.context import DeadlineExceeded

        raise DeadlineExceeded("not run", f"run deadline ({run.deadline.seconds:g} s) passed")


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    run = run_state.current(pyfuncitem.config)
    if run is None or run_state.CHECK_ID not in pyfuncitem.stash:
        return None
    from verify.settle import call_settling

    return True if call_settling(pyfuncitem, run) else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    try:
        return (yield)
    finally:
        if run_state.CHECK_ID in item.stash:
            from verify.fixtures.core import CheckRecord

            CheckRecord(item).attach_to_allure()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    check_id = item.stash.get(run_state.CHECK_ID, None)
    if check_id is not None:
        from verify.outcomes import decorate, phase_outcome

        decorate(item, report, check_id, phase_outcome(item, call, report))
    return report


def pytest_report_teststatus(report: pytest.TestReport) -> tuple[str, str, Any] | None:
    """A failed check is FAIL, one that could not observe is ERROR: listed in the verify section
    with its evidence, once, instead of in pytest's FAILURES and short summary."""
    data = getattr(report, "verify", None)
    outcome = data.get("outcome") if data else None
    if not outcome or outcome["status"] not in ("failed", "error"):
        return None
    word = "FAIL" if outcome["status"] == "failed" else "ERROR"
    return word, word[0], (word, {"red": True})


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under -n, checks of one component go to one worker, so each probe runs once."""
    if run_state.current(config) is None or config.getvalue("dist") != "load":
        return None
    if any(arg.startswith("--dist") for arg in config.invocation_params.args):
        return None  # the user chose a mode: keep it
    from xdist.scheduler import LoadFileScheduling  # type: ignore[import-untyped]

    return LoadFileScheduling(config, log)


def pytest_sessionfinish(session: pytest.Session) -> None:
    run = run_state.current(session.config)
    workeroutput = getattr(session.config, "workeroutput", None)
    if run is not None and workeroutput is not None:
        from verify.reporting import local_stats

        workeroutput["verify"] = local_stats(run)


def pytest_unconfigure(config: pytest.Config) -> None:
    run = run_state.current(config)
    if run is not None and run.sandbox_started:
        from verify.sandbox_link import detach

        detach(run)
