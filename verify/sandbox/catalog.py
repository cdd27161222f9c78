"""The fault catalogue: every part's faults, what each breaks and the check that must catch it."""

from __future__ import annotations

import difflib

from verify.sandbox.part import Fault

__all__ = ["BY_NAME", "FAULTS", "OWNER", "Fault", "lookup"]
from verify.sandbox.parts import PARTS

FAULTS: tuple[Fault, ...] = tuple(fault for part in PARTS.values() for fault in part.faults)
BY_NAME = {f.name: f for f in FAULTS}
OWNER = {fault.name: part.name for part in PARTS.values() for fault in part.faults}


def lookup(name: str) -> Fault:
    """The fault called `name`; ValueError naming the near match and the known names otherwise."""
    try:
        return BY_NAME[name]
    except KeyError:
        near = difflib.get_close_matches(name, list(BY_NAME), n=1)
        hint = f"did you mean {near[0]!r}? " if near else ""
        known = ", ".join(f.name for f in FAULTS)
        raise ValueError(f"unknown fault {name!r}; {hint}known faults: {known}") from None
