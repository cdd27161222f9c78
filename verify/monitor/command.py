"""`verify monitor`: option parsing, and the link to the sandbox for sandbox environments."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from verify.config import DEFAULT_ENVIRONMENTS_FILE

if TYPE_CHECKING:
    from verify.clients import AwsClients
    from verify.config import EnvConfig


@click.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    epilog="Metrics go to stdout (EMF) or CloudWatch (monitor.metrics); progress to stderr. "
    "Any other argument goes to each iteration's pytest run.",
)
@click.option(
    "--env", "env_name", envvar="VERIFY_ENV", required=True, help="Environment [$VERIFY_ENV]."
)
@click.option(
    "--environments",
    envvar="VERIFY_ENVIRONMENTS",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_ENVIRONMENTS_FILE,
    help="Environments file [$VERIFY_ENVIRONMENTS, else ./environments.toml].",
)
@click.option(
    "--interval",
    type=click.FloatRange(0, 86400),
    default=60.0,
    show_default=True,
    help="Seconds between the end of one iteration and the start of the next.",
)
@click.option("--once", is_flag=True, help="One iteration (for a scheduler), then exit.")
@click.option("--iterations", type=click.IntRange(1), help="Stop after N iterations.")
@click.option("-m", "markexpr", default="synthetic", show_default=True, help="Which checks.")
@click.option(
    "--alert-after",
    type=click.IntRange(1, 1000),
    help="Consecutive failures of a check before one alert [monitor.alert_after, 3].",
)
@click.option(
    "--reports-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="History, alert state and the last run go to DIR/monitor/ENV/.",
)
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def monitor(
    env_name: str,
    environments: Path,
    interval: float,
    once: bool,
    iterations: int | None,
    markexpr: str,
    alert_after: int | None,
    reports_dir: Path,
    pytest_args: tuple[str, ...],
) -> None:
    """Run the synthetic checks of ENV on an interval: metrics, alerts, history.

    Exit code: the last iteration's (0 PASS, 1 FAIL, 6 ERROR); 4 or 5 when the selection cannot
    run at all. SIGTERM (or Ctrl-C) finishes the current iteration, then exits; a second one
    interrupts it.
    """
    from verify.config import ConfigError
    from verify.monitor.loop import Options, start
    from verify.registry import RegistryError

    options = Options(
        env=env_name,
        environments=environments.resolve(),
        interval_s=interval,
        iterations=1 if once else iterations,
        markexpr=markexpr,
        alert_after=alert_after,
        reports_dir=reports_dir.resolve(),
        pytest_args=pytest_args,
    )
    try:
        with _Sandbox() as link:
            code = start(options, link.aws_clients)
    except (ConfigError, RegistryError) as exc:
        click.echo(f"verify monitor: {exc}", err=True)
        raise click.exceptions.Exit(4) from None
    raise click.exceptions.Exit(code)


class _Sandbox:
    """A sandbox environment's link: the running sandbox (started here if none is up)."""

    def __init__(self) -> None:
        self.started_dir: Path | None = None
        self.created_dir = False

    def __enter__(self) -> _Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.started_dir is not None:
            import shutil

            from verify import sandbox

            sandbox.down(self.started_dir)
            if self.created_dir:  # leave no .sandbox/ behind in a directory that had none
                shutil.rmtree(self.started_dir, ignore_errors=True)

    def aws_clients(self, env: EnvConfig) -> tuple[EnvConfig, AwsClients]:
        """The environment (sandbox names resolved) and AWS clients for the monitor itself."""
        from verify.clients import AwsClients

        if not env.spec.sandbox:
            return env, AwsClients(env)
        try:
            from verify import sandbox
            from verify.sandbox.parts import needed_for
        except ImportError as exc:
            raise click.ClickException(
                f"env {env.name} needs the sandbox extra ({exc.name} missing)"
            ) from None
        from verify.registry import discover

        directory = sandbox.sandbox_dir()
        os.environ["VERIFY_SANDBOX_DIR"] = str(directory)  # each iteration attaches to it
        state = sandbox.load_state(directory)
        if state is None:
            registry = discover()
            parts = needed_for(c.name for c in registry if env.configures(c.name))
            click.echo(f"verify monitor: starting the sandbox in {directory}", err=True)
            self.started_dir = directory
            self.created_dir = not directory.exists()
            state = sandbox.up(directory, parts=parts)
        resolved = env.resolve_sandbox(state.endpoints)
        aws = AwsClients(
            resolved,
            access_key_id=state.access_key_id,
            secret_access_key=state.secret_access_key,
            sandbox_token=state.token,
        )
        return resolved, aws
