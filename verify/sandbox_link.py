"""The `local` environment's link to the embedded sandbox: start or reuse it, resolve endpoints."""

from __future__ import annotations

import os
import shutil
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from verify.config import ConfigError

if TYPE_CHECKING:
    from verify.run import Run


def attach(config: pytest.Config, run: Run) -> None:
    """Use the running sandbox, or start one for this run (stopped again at the end)."""
    try:
        from verify import sandbox
    except ImportError as exc:
        raise pytest.UsageError(
            f"env {run.env.name} needs the sandbox extra ({exc.name} missing): "
            "pip install 'verify[sandbox]'"
        ) from None
    from verify.context import Deadline

    directory = sandbox.sandbox_dir()
    run.sandbox_dir_created = not directory.exists()
    os.environ["VERIFY_SANDBOX_DIR"] = str(directory)  # xdist workers attach to the same one
    state = sandbox.load_state(directory)
    if state is None:
        if hasattr(config, "workerinput"):
            raise pytest.UsageError(f"no sandbox running in {directory}")
        started = time.monotonic()
        sys.stderr.write(f"verify: starting the sandbox in {directory} ...\n")
        try:
            state = sandbox.up(directory, parts=_parts(run), progress=_say)
        except Exception as exc:  # the run cannot observe anything: say why, in one line
            raise pytest.UsageError(
                f"sandbox failed to start: {exc} (logs in {directory})"
            ) from None
        sys.stderr.write(f"verify: sandbox up in {time.monotonic() - started:.1f}s\n")
        run.sandbox_started = True
        run.deadline = Deadline(run.deadline.seconds)  # the start-up is not the run's time
        run.started_at = datetime.now(UTC)
    run.sandbox_dir = str(directory)
    try:
        run.env = run.env.resolve_sandbox(state.endpoints)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    run.aws_keys = (state.access_key_id, state.secret_access_key)
    run.sandbox_token = getattr(state, "token", None)
    run.account_id = run.account_id or state.account_id
    if run.release is None and run.env.spec.release_from == "sandbox":
        run.release, run.release_source = state.release, "sandbox"


def _say(line: str) -> None:
    sys.stderr.write(f"  {line}\n")


def _parts(run: Run) -> list[str]:
    """The sandbox parts the environment's configured components read."""
    from verify.sandbox.parts import needed_for

    return needed_for(c.name for c in run.registry if run.env.configures(c.name))


def detach(run: Run) -> None:
    """Stop the sandbox this run started (a sandbox that was already up keeps running)."""
    from pathlib import Path

    from verify import sandbox

    if run.sandbox_dir:
        sandbox.down(Path(run.sandbox_dir))
        if run.sandbox_dir_created:  # leave no .sandbox/ behind in a directory that had none
            shutil.rmtree(run.sandbox_dir, ignore_errors=True)
