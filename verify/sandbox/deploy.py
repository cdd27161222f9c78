"""Client of the sandbox's deploy control (`verify sandbox deploy`, tests, the gate bench)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from verify.sandbox import control
from verify.sandbox.errors import SandboxError
from verify.sandbox.state import SandboxState, load_state


def _state(dir: Path) -> SandboxState:
    state = load_state(Path(dir).absolute())
    if state is None:
        raise SandboxError(f"no sandbox running in {dir} (start one with `verify sandbox up`)")
    if "aws" not in state.endpoints:
        raise SandboxError(
            "deploys need the sandbox's aws part (verify sandbox up --parts aws,api)"
        )
    return state


def deploy(dir: Path, release: str, bad: bool = False, converge_after: float = 0) -> dict[str, Any]:
    """Deploy `release`: new revisions of every service, the asset-set pointers moved to it."""
    state = _state(dir)
    body = {"release": release, "bad": bad, "converge_after": converge_after}
    return control.call(state.endpoints["aws"], "deploy", state.token, body)


def reset(dir: Path) -> dict[str, Any]:
    """Undo every deploy: services back on the seeded release, deployed revisions deregistered."""
    state = _state(dir)
    return control.call(state.endpoints["aws"], "deploy-reset", state.token, {})


def status(dir: Path) -> dict[str, Any]:
    """Which task definition each service is set to, pending rollouts, bad releases."""
    state = _state(dir)
    answer: dict[str, Any] = control.call(state.endpoints["aws"], "deploy-status", state.token)
    return dict(answer["state"])
