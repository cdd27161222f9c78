"""The embedded sandbox: a local stand-in of the platform (the `local` environment) with faults."""

from __future__ import annotations

from verify.sandbox.catalog import Fault
from verify.sandbox.errors import SandboxError
from verify.sandbox.inject import active, break_fault, faults, heal
from verify.sandbox.lifecycle import down, up
from verify.sandbox.state import DEFAULT_DIR, SandboxState, load_state, sandbox_dir

__all__ = [
    "DEFAULT_DIR",
    "Fault",
    "SandboxError",
    "SandboxState",
    "active",
    "break_fault",
    "down",
    "faults",
    "heal",
    "load_state",
    "sandbox_dir",
    "up",
]
