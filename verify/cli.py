"""The `verify` command: run the checks, list environments, drive the sandbox."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from verify.config import (
    CHECKED_COMPONENTS,
    DEFAULT_ENVIRONMENTS_FILE,
    ROADMAP_COMPONENTS,
    ConfigError,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Post-deploy verification of the Mobilytics platform."""


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option(
    "--env", "env_name", envvar="VERIFY_ENV", required=True, help="Environment to verify."
)
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def run(env_name: str, pytest_args: tuple[str, ...]) -> None:
    """Run the smoke checks (or what PYTEST_ARGS select) and exit 0 only on PASS."""
    import pytest

    args = [f"--env={env_name}", *pytest_args]
    if not any(a == "-m" or a.startswith("-m") for a in pytest_args):
        args += ["-m", "smoke"]
    sys.exit(int(pytest.main(args)))


@main.command()
@click.option(
    "--environments",
    "path",
    envvar="VERIFY_ENVIRONMENTS",
    default=DEFAULT_ENVIRONMENTS_FILE,
    show_default=True,
    help="Environments file.",
)
def envs(path: str) -> None:
    """List environments and what each configures."""
    from verify.config import environment_names, load

    try:
        for name in environment_names(Path(path)):
            env = load(Path(path), name)
            checked = [c for c in CHECKED_COMPONENTS if env.configures(c)]
            later = [c for c in ROADMAP_COMPONENTS if env.configures(c)]
            extra = f"  (not yet checked: {', '.join(later)})" if later else ""
            sandbox = " [sandbox]" if env.spec.sandbox else ""
            click.echo(f"{name:<10} {env.region or '-':<12} {', '.join(checked)}{extra}{sandbox}")
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


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


_mount_sandbox()

if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
