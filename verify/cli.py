"""The `verify` command: run the checks, list environments, drive the sandbox."""

from __future__ import annotations

import os
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import click

from verify.config import DEFAULT_ENVIRONMENTS_FILE, ConfigError


def _version() -> str:
    try:
        return version("verify")
    except PackageNotFoundError:  # running from a source tree without an install
        return "0+unknown"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), "--version", "-V", prog_name="verify")
def main() -> None:
    """Post-deploy verification of the Mobilytics platform.

    Exit codes of `verify run` (and of `pytest --env=...`): 0 PASS, 1 FAIL (the platform is
    broken: roll back), 6 ERROR (could not look: retry or page someone), and pytest's own
    2 interrupted, 3 internal error, 4 usage or config error, 5 no checks collected.
    """


@main.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    epilog="Any other argument goes to pytest unchanged (-n 2, -k ..., --alluredir DIR, -x, -v).",
)
@click.option(
    "--env",
    "env_name",
    envvar="VERIFY_ENV",
    required=True,
    help="Environment to verify [$VERIFY_ENV].",
)
@click.option(
    "--environments",
    envvar="VERIFY_ENVIRONMENTS",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Environments file [$VERIFY_ENVIRONMENTS, else ./environments.toml].",
)
@click.option(
    "--release",
    envvar="VERIFY_RELEASE",
    help="The release that must be live [$VERIFY_RELEASE; else the sandbox's; else discovered].",
)
@click.option("--settle", type=float, help="Seconds 'eventually' checks may wait to converge [0].")
@click.option(
    "--rollback",
    type=click.Choice(["off", "dry-run", "auto"]),
    help="Override the environment's rollback mode.",
)
@click.option(
    "--codedeploy-deployment-id",
    envvar="VERIFY_CODEDEPLOY_DEPLOYMENT_ID",
    help="The codedeploy hook's deployment [$VERIFY_CODEDEPLOY_DEPLOYMENT_ID].",
)
@click.option(
    "--codedeploy-hook-execution-id",
    envvar="VERIFY_CODEDEPLOY_HOOK_EXECUTION_ID",
    help="Its lifecycle hook execution [$VERIFY_CODEDEPLOY_HOOK_EXECUTION_ID].",
)
@click.option(
    "--reports-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where verdict.json and junit.xml go [reports].",
)
@click.option(
    "-m",
    "markexpr",
    default="smoke",
    show_default=True,
    help="Which checks: smoke, deep, synthetic, or an expression.",
)
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def run(
    env_name: str,
    environments: Path | None,
    release: str | None,
    settle: float | None,
    rollback: str | None,
    codedeploy_deployment_id: str | None,
    codedeploy_hook_execution_id: str | None,
    reports_dir: Path | None,
    markexpr: str,
    pytest_args: tuple[str, ...],
) -> None:
    """Run the checks against ENV and exit 0 only on PASS."""
    import pytest

    args = [f"--env={env_name}", "-m", markexpr]
    for flag, value in (
        ("--environments", environments),
        ("--release", release),
        ("--settle", settle),
        ("--rollback", rollback),
        ("--codedeploy-deployment-id", codedeploy_deployment_id),
        ("--codedeploy-hook-execution-id", codedeploy_hook_execution_id),
        ("--reports-dir", reports_dir),
    ):
        if value is not None:
            args.append(f"{flag}={value}")
    sys.exit(int(pytest.main([*args, *pytest_args])))


# `--environments FILE` of the commands that only read the file (no pytest run).
environments_path = click.option(
    "--environments",
    "path",
    envvar="VERIFY_ENVIRONMENTS",
    default=DEFAULT_ENVIRONMENTS_FILE,
    show_default=True,
    help="Environments file [$VERIFY_ENVIRONMENTS].",
)


@main.command()
@environments_path
def envs(path: str) -> None:
    """List environments and what each configures."""
    from verify.config import environment_names, load
    from verify.registry import RegistryError, discover

    try:
        registry = discover()
        for name in environment_names(Path(path)):
            env = load(Path(path), name, registry)
            checked = [c.name for c in registry if env.configures(c.name)]
            sandbox = " [sandbox]" if env.spec.sandbox else ""
            click.echo(f"{name:<10} {env.region or '-':<12} {', '.join(checked)}{sandbox}".rstrip())
    except (ConfigError, RegistryError) as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
def components() -> None:
    """List the registered components (built-in and from installed packages) and their checks."""
    from verify.registry import RegistryError, discover

    try:
        registry = discover()
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from None
    for component in registry:
        click.echo(f"{component.name:<10} {component.summary}")
        for name in sorted(component.check_names()):
            click.echo(f"  {name}")


@main.command("iam-policy")
@click.option(
    "--env", "env_name", envvar="VERIFY_ENV", required=True, help="Environment [$VERIFY_ENV]."
)
@environments_path
@click.option(
    "-m", "markexpr", default="smoke or deep or synthetic", show_default=True, help="Which checks."
)
@click.option("--monitor", is_flag=True, help="Add what `verify monitor` itself calls.")
@click.option("--rollback", is_flag=True, help="Print the rollback hooks' role's policy instead.")
def iam_policy(env_name: str, path: str, markexpr: str, monitor: bool, rollback: bool) -> None:
    """Print the least-privilege IAM policy (JSON) of the selected checks of ENV."""
    import json

    from verify import iam
    from verify.config import load
    from verify.registry import RegistryError, discover

    try:
        registry = discover()
        env = load(Path(path), env_name, registry)
    except (ConfigError, RegistryError) as exc:
        raise click.ClickException(str(exc)) from None
    account_id = None
    if env.spec.sandbox:
        env, account_id = _sandbox_resolved(env)
    if rollback:
        grants = iam.rollback_grants(env, iam.Scope.of(env, account_id))
        if not grants:
            raise click.ClickException(
                f"environment {env_name} has no rollback hooks that call AWS "
                f"(rollback.hooks; a team's own hooks declare theirs under the "
                f"{iam.ROLLBACK_ENTRY_POINT!r} entry point)"
            )
        document = iam.document(grants)
    else:
        scope = iam.Scope.of(env, account_id)
        grants = iam.grants_of(iam.selected(registry, env, markexpr), env, scope)
        if monitor:
            grants += iam.monitor_grants(env, scope)
        document = iam.document(grants)
    click.echo(json.dumps(document, indent=2))


def _sandbox_resolved(env: Any) -> tuple[Any, str | None]:
    """A sandbox environment's `sandbox:` names and account, from the running sandbox."""
    try:
        from verify import sandbox
    except ImportError:
        raise click.ClickException(
            "the sandbox needs its extra: pip install 'verify[sandbox]'"
        ) from None
    state = sandbox.load_state(sandbox.sandbox_dir())
    if state is None:
        raise click.ClickException(
            f"env {env.name} names sandbox resources: start it first (verify sandbox up)"
        )
    try:
        return env.resolve_sandbox(state.endpoints), state.account_id
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _mount_monitor() -> None:
    from verify.monitor.command import monitor
    from verify.report.command import report

    main.add_command(monitor)
    main.add_command(report)


def _mount_sandbox() -> None:
    try:
        from verify.sandbox.cli import sandbox
    except ImportError:  # the sandbox extra is not installed: say so only when asked for

        @main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
        def sandbox() -> None:
            """The local stand-in of the platform (needs `pip install 'verify[sandbox]'`)."""
            raise click.ClickException("the sandbox needs its extra: pip install 'verify[sandbox]'")

        return
    main.add_command(sandbox)


_mount_monitor()
_mount_sandbox()

if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
