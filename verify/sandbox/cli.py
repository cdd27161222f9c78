"""`verify sandbox ...`: the click group the `verify` command mounts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, TypeVar

import click

from verify.sandbox import inject, lifecycle, spec
from verify.sandbox.catalog import BY_NAME
from verify.sandbox.errors import SandboxError
from verify.sandbox.parts import PARTS
from verify.sandbox.state import SandboxState, load_state, sandbox_dir

T = TypeVar("T")
FIELDS: dict[str, Callable[[SandboxState], str]] = {
    "release": lambda s: s.release,
    "previous_release": lambda s: s.previous_release,
    "region": lambda s: s.region,
    "account_id": lambda s: s.account_id,
    "latency_ms": lambda s: str(s.latency_ms),
    "faults": lambda s: ",".join(s.faults),
    "dir": lambda s: str(s.dir),
    "parts": lambda s: ",".join(s.parts),
}

dir_option = click.option(
    "--dir",
    "dir_",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Sandbox directory [default: $VERIFY_SANDBOX_DIR or ./.sandbox].",
)


def _fail(message: str) -> NoReturn:
    """One line on stderr, exit status 2, no traceback."""
    click.echo(f"verify sandbox: {message}", err=True)
    raise click.exceptions.Exit(2)


def _guard(action: Callable[[], T]) -> T:
    try:
        return action()
    except (SandboxError, ValueError) as exc:
        _fail(str(exc))


def _summary(state: SandboxState, faults: dict[str, list[str]] | None = None) -> list[str]:
    lines = [
        f"  dir       {state.dir}",
        f"  release   {state.release}  (previous {state.previous_release})",
        f"  account   {state.account_id} in {state.region}, access key id {state.access_key_id}",
        f"  latency   {state.latency_ms} ms",
    ]
    for name, part in state.parts.items():
        endpoints = ", ".join(f"{k} {v}" for k, v in part.endpoints.items()) or "-"
        lines.append(f"  {name:<9} {endpoints}")
    shown = sorted(f for part in (faults or {}).values() for f in part) if faults else state.faults
    lines.append(f"  faults    {', '.join(shown) or 'none'}")
    return lines


def _env_parts(env_name: str, environments: str | None) -> list[str]:
    """The parts the environment's configured components need."""
    from verify.config import ConfigError, load
    from verify.registry import discover
    from verify.sandbox.parts import needed_for

    path = Path(environments or "environments.toml")
    try:
        env = load(path, env_name, discover())
    except ConfigError as exc:
        _fail(str(exc))
    return needed_for(c for c in discover().components if env.configures(c))


@click.group(name="sandbox")
def sandbox() -> None:
    """The local stand-in of the platform (the `local` environment) and its faults."""


@sandbox.command()
@dir_option
@click.option(
    "--latency-ms",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Injected latency per AWS and API request.",
)
@click.option(
    "--release", default=spec.DEFAULT_RELEASE, show_default=True, help="Release the sandbox runs."
)
@click.option(
    "--previous-release",
    default=spec.DEFAULT_PREVIOUS_RELEASE,
    show_default=True,
    help="Release of task definition revision 1.",
)
@click.option("--parts", help=f"Comma-separated parts to start [all: {','.join(PARTS)}].")
@click.option("--env", "env_name", help="Start only the parts this environment's checks need.")
@click.option("--environments", envvar="VERIFY_ENVIRONMENTS", help="Environments file for --env.")
def up(
    dir_: Path | None,
    latency_ms: int,
    release: str,
    previous_release: str,
    parts: str | None,
    env_name: str | None,
    environments: str | None,
) -> None:
    """Start the sandbox (or reuse the running one, adding missing parts)."""
    chosen = (
        parts.split(",") if parts else (_env_parts(env_name, environments) if env_name else None)
    )
    reused = load_state(sandbox_dir(dir_)) is not None
    state = _guard(
        lambda: lifecycle.up(
            sandbox_dir(dir_),
            parts=chosen,
            latency_ms=latency_ms,
            release=release,
            previous_release=previous_release,
            progress=lambda line: click.echo(f"sandbox: {line}"),
        )
    )
    how = "reused" if reused else f"up in {state.startup_s:.2f} s"
    click.echo("\n".join([f"sandbox {how}", *_summary(state)]))


@sandbox.command()
@dir_option
def down(dir_: Path | None) -> None:
    """Stop every sandbox process and remove its state."""
    directory = sandbox_dir(dir_)
    running = load_state(directory) is not None
    _guard(lambda: lifecycle.down(directory))
    click.echo("sandbox stopped" if running else f"sandbox: none running in {directory}")


@sandbox.command()
@dir_option
@click.option(
    "--field", type=click.Choice(sorted(FIELDS)), default=None, help="Print only this value."
)
def status(dir_: Path | None, field: str | None) -> None:
    """Whether the sandbox runs, its endpoints, release and the faults really active (exit 1 if not)."""
    directory = sandbox_dir(dir_)
    state = load_state(directory)
    if state is None:
        click.echo(f"sandbox: not running in {directory}", err=field is not None)
        raise click.exceptions.Exit(1)
    if field is not None:
        click.echo(FIELDS[field](state))
        return
    faults = _guard(lambda: inject.active(directory))
    click.echo("\n".join(["sandbox running", *_summary(state, faults)]))


@sandbox.command(name="faults")
def list_faults() -> None:
    """The faults `break` can inject and the check that must catch each."""
    rows = [(f.name, f.expect.upper(), f.check, f.description) for f in inject.faults()]
    head = ("FAULT", "EXPECT", "CHECK", "DESCRIPTION")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(3)]
    for name, expect, check, description in [head, *rows]:
        click.echo(
            f"{name:<{widths[0]}}  {expect:<{widths[1]}}  {check:<{widths[2]}}  {description}"
        )


@sandbox.command(name="break")
@click.argument("fault")
@dir_option
def break_(fault: str, dir_: Path | None) -> None:
    """Inject FAULT into the running sandbox."""
    changed = _guard(lambda: inject.break_fault(sandbox_dir(dir_), fault))
    known = BY_NAME[fault]
    if not changed:
        click.echo(f"sandbox: {fault} is already active")
    elif known.expect == "pass":
        click.echo(f"sandbox: {fault} applied; a normal state: every check must still PASS")
    else:
        click.echo(f"sandbox: {fault} injected; {known.check} must now {known.expect.upper()}")


@sandbox.command()
@click.argument("fault", required=False)
@dir_option
def heal(fault: str | None, dir_: Path | None) -> None:
    """Heal FAULT, or every fault when none is named."""
    healed = _guard(lambda: inject.heal(sandbox_dir(dir_), fault))
    if healed:
        click.echo(f"sandbox: healed {', '.join(healed)}")
    else:
        click.echo(
            f"sandbox: {fault + ' was' if fault else 'no fault was'} not active; nothing to heal"
        )


@sandbox.command()
@dir_option
@click.option("--release", help="The release to deploy (a new task-definition revision).")
@click.option("--bad", is_flag=True, help="The release is broken: its API answers 5xx.")
@click.option(
    "--converge-after",
    type=click.FloatRange(0, 3600),
    default=0.0,
    show_default=True,
    help="Seconds until the new tasks run (ECS reports the rollout IN_PROGRESS until then).",
)
@click.option("--reset", is_flag=True, help="Undo every deploy: back to the seeded release.")
def deploy(
    dir_: Path | None, release: str | None, bad: bool, converge_after: float, reset: bool
) -> None:
    """Deploy a release to the sandbox like a pipeline would (ECS revision + asset-set pointer)."""
    from verify.sandbox import deploy as deploys

    directory = sandbox_dir(dir_)
    if reset:
        answer = _guard(lambda: deploys.reset(directory))
        click.echo(f"sandbox: deploys undone; deregistered {len(answer['deregistered'])} revisions")
        return
    if not release:
        _fail("--release is required (or --reset)")
    answer = _guard(lambda: deploys.deploy(directory, release, bad, converge_after))
    for service, td in answer["revisions"].items():
        click.echo(f"sandbox: {service} -> {td.rsplit('/', 1)[-1]}")
    when = f"in {converge_after:g} s" if converge_after else "now"
    quality = "a bad release: its API answers 5xx" if bad else "a good release"
    click.echo(f"sandbox: deployed {release} ({quality}); tasks converge {when}")
