"""Break and heal: API faults act on the demo API, AWS faults go to the overlay's control API."""

from __future__ import annotations

import secrets
from pathlib import Path

from verify.sandbox import api_mode, control, procs, spec
from verify.sandbox.catalog import API_FAULTS, AWS_FAULTS, FAULTS, Fault, lookup
from verify.sandbox.errors import SandboxError
from verify.sandbox.lifecycle import start_api
from verify.sandbox.lock import locked
from verify.sandbox.state import SandboxState, load_state, save_state


def faults() -> list[Fault]:
    """Every fault the sandbox can inject."""
    return list(FAULTS)


def break_fault(dir: Path, name: str) -> None:
    """Activate fault `name` (ValueError if unknown); a no-op if it is active already."""
    lookup(name)
    dir = Path(dir).absolute()
    with locked(dir):
        state = _running(dir)
        if name not in state.faults:
            _apply(state, set(state.faults) | {name}, {})


def heal(dir: Path, name: str | None = None) -> None:
    """Heal fault `name`, or every fault when None; idempotent."""
    if name is not None:
        lookup(name)
    dir = Path(dir).absolute()
    with locked(dir):
        state = _running(dir)
        healing = set(state.faults) if name is None else {name} & set(state.faults)
        fresh = {}
        if "secret-missing" in healing:
            # The recreated secret gets a new value, as a real re-creation would.
            fresh[spec.REDIS_AUTH_SECRET] = secrets.token_urlsafe(32)
        _apply(state, set(state.faults) - healing, fresh)


def _running(dir: Path) -> SandboxState:
    state = load_state(dir)
    if state is None:
        raise SandboxError(f"no sandbox running in {dir} (start one with `verify sandbox up`)")
    return state


def _apply(state: SandboxState, active: set[str], fresh_secrets: dict[str, str]) -> None:
    """Make `active` the fault set: API mode file and process, then the AWS world."""
    api_faults = active & API_FAULTS
    api_mode.write(state.dir, api_mode.ApiMode(state.latency_ms, sorted(api_faults - {"api-down"})))
    if "api-down" in active and "api" in state.pids:
        procs.stop(state.pids.pop("api"))
    elif "api-down" not in active and "api" not in state.pids:
        port = int(state.endpoints["api"].rsplit(":", 1)[1])
        state.pids["api"], _ = start_api(state.dir, port, state.release, state.previous_release)
    answer = control.call(
        state.endpoints["aws"],
        "faults",
        {"active": sorted(active & AWS_FAULTS), "secret_values": fresh_secrets},
    )
    state.secrets.update(fresh_secrets)
    state.faults = sorted(set(answer["faults"]) | api_faults)
    save_state(state)
