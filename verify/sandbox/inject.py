"""Break and heal: each fault goes to the part that owns it."""

from __future__ import annotations

from pathlib import Path

from verify.sandbox.catalog import FAULTS, OWNER, Fault, lookup
from verify.sandbox.errors import SandboxError
from verify.sandbox.lock import locked
from verify.sandbox.parts import PARTS
from verify.sandbox.state import SandboxState, load_state, save_state


def faults() -> list[Fault]:
    """Every fault the sandbox can inject."""
    return list(FAULTS)


def break_fault(dir: Path, name: str) -> bool:
    """Activate fault `name` (ValueError if unknown); False when it was active already."""
    lookup(name)
    with locked(Path(dir).absolute()):
        state = _running(dir)
        owner = _owner(state, name)
        part_state = state.parts[owner]
        if name in part_state.faults:
            return False
        PARTS[owner].apply(state.context(), part_state, frozenset({*part_state.faults, name}))
        save_state(state)
        return True


def heal(dir: Path, name: str | None = None) -> list[str]:
    """Heal fault `name`, or every fault when None; the faults it healed (none: nothing was on)."""
    if name is not None:
        lookup(name)
    with locked(Path(dir).absolute()):
        state = _running(dir)
        healed: list[str] = []
        for owner, part_state in state.parts.items():
            leaving = set(part_state.faults) if name is None else {name} & set(part_state.faults)
            if leaving:
                PARTS[owner].apply(
                    state.context(), part_state, frozenset(set(part_state.faults) - leaving)
                )
                healed += sorted(leaving)
        save_state(state)
        return healed


def active(dir: Path) -> dict[str, list[str]]:
    """Faults really in effect, asked of each part (not read from the state file)."""
    state = _running(dir)
    ctx = state.context()
    return {name: sorted(PARTS[name].active(ctx, ps)) for name, ps in state.parts.items()}


def _owner(state: SandboxState, name: str) -> str:
    owner = OWNER[name]
    if owner not in state.parts:
        raise SandboxError(
            f"fault {name} needs sandbox part {owner}, which is not running (verify sandbox up)"
        )
    return owner


def _running(dir: Path) -> SandboxState:
    state = load_state(Path(dir).absolute())
    if state is None:
        raise SandboxError(f"no sandbox running in {dir} (start one with `verify sandbox up`)")
    return state
