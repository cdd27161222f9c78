"""The one small interface every part of the sandbox implements.

A part is one real piece of the stand-in platform: the AWS control plane (moto behind the
overlay), the demo API, Redis with its BullMQ workers, PostgreSQL primary + replica, the Next.js
apps, the edge. Each part starts, stops (by pid), reports its health and owns its faults; the
lifecycle starts the parts an environment needs, in parallel where none waits on another.

Faults a part owns act on the real thing (stop a process, pause WAL replay, age jobs); faults
on AWS resources go through the AWS part's control endpoint to the part's AWS extension, a
module loaded into the AWS process (`aws_extension`) that seeds moto and fills what it lacks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Fault:
    """One injectable state; `check` is the id of the check it must make FAIL (`expect="fail"`),
    or the normal state every check must still PASS in (`expect="pass"`)."""

    name: str
    description: str
    check: str
    expect: Literal["fail", "error", "pass"] = "fail"
    also: tuple[str, ...] = ()  # checks that, truthfully, fail too


@dataclass
class PartState:
    """What a running part recorded: JSON-safe, kept in the sandbox state file (mode 0600)."""

    endpoints: dict[str, str] = field(default_factory=dict)  # `sandbox:NAME` -> URL
    pids: dict[str, int] = field(default_factory=dict)  # process name -> pid
    data: dict[str, Any] = field(default_factory=dict)  # ports, paths, ids the part needs later
    secrets: dict[str, str] = field(default_factory=dict)  # Secrets Manager name -> value
    faults: list[str] = field(default_factory=list)  # faults this part has applied

    def to_json(self) -> dict[str, Any]:
        return {
            "endpoints": self.endpoints,
            "pids": self.pids,
            "data": self.data,
            "secrets": self.secrets,
            "faults": self.faults,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> PartState:
        return cls(
            endpoints=dict(raw.get("endpoints") or {}),
            pids={k: int(v) for k, v in (raw.get("pids") or {}).items()},
            data=dict(raw.get("data") or {}),
            secrets=dict(raw.get("secrets") or {}),
            faults=list(raw.get("faults") or []),
        )


@dataclass
class PartContext:
    """What a part gets to start, heal or break: the sandbox's settings and the other parts."""

    dir: Path
    release: str
    previous_release: str
    token: str  # the sandbox's control token: every control request carries it
    latency_ms: int
    secrets: dict[str, str]  # every secret value of the sandbox so far (name -> value)
    endpoints: dict[str, str]  # of the parts up so far
    parts: dict[str, PartState]  # the states of the parts up so far
    progress: Progress

    def aws_control(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call the AWS part's control endpoint (faults of AWS extensions, secrets)."""
        from verify.sandbox import control

        return control.call(self.endpoints["aws"], path, self.token, body)


class Part(Protocol):
    """A part of the sandbox; see the module docstring."""

    name: ClassVar[str]
    after: ClassVar[tuple[str, ...]]  # parts that must be up first, when both are started
    serves: ClassVar[tuple[str, ...]]  # components whose checks read this part
    faults: ClassVar[tuple[Fault, ...]]
    aws_extension: ClassVar[str | None]  # "module:attribute" loaded into the AWS process

    def start(self, ctx: PartContext) -> PartState: ...

    def stop(self, state: PartState) -> None: ...

    def health(self, ctx: PartContext, state: PartState) -> str | None:
        """None when healthy, else one line saying what is wrong."""
        ...

    def apply(self, ctx: PartContext, state: PartState, active: frozenset[str]) -> None:
        """Make exactly `active` (a subset of this part's faults) true; record it in `state`."""
        ...

    def active(self, ctx: PartContext, state: PartState) -> frozenset[str]:
        """The faults really in effect, read from the real thing where it can tell."""
        ...
