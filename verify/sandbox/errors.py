"""The one exception the sandbox raises for operational failures."""

from __future__ import annotations


class SandboxError(RuntimeError):
    """The sandbox is not running, could not start, or refused a request."""
