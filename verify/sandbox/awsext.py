"""AWS extensions: what a sandbox part adds to the AWS process (seed, fills, faults, ticks).

The AWS part's own extension covers ECS, ELB, alarms and secrets (verify.sandbox.world); other
parts name theirs in `Part.aws_extension` ("module:attribute"), for RDS, CloudFront, S3, ...
Extensions run inside the AWS process, with clients straight to moto (`world.clients`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from verify.sandbox.awserrors import Call
    from verify.sandbox.world import World


@dataclass(frozen=True)
class OverlayRequest:
    """One AWS request as the overlay forwarded it to moto."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    call: Call

    def json(self) -> dict[str, Any]:
        import json

        try:
            parsed = json.loads(self.body or b"{}")
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}

    def form(self) -> dict[str, str]:
        from urllib.parse import parse_qsl

        return dict(parse_qsl(self.body.decode("utf-8", "replace")))


# fill(world, request, moto's 200 payload) -> the payload AWS would have sent
Fill = Callable[["World", OverlayRequest, bytes], bytes]
# rewrite(world, request) -> the body to send moto instead (a filter moto lacks, ...)
Rewrite = Callable[["World", OverlayRequest], bytes]


class AwsExtension(Protocol):
    name: str  # the part that owns it; its faults are switched under this name
    faults: frozenset[str]
    fills: Mapping[tuple[str, str], Fill]  # (signing name, operation) -> fill
    rewrites: Mapping[tuple[str, str], Rewrite]

    def seed(self, world: World, config: dict[str, Any]) -> None: ...

    def reconcile(self, world: World, active: frozenset[str]) -> None: ...

    def tick(self, world: World) -> None: ...


@dataclass
class SimpleExtension:
    """An AwsExtension made of plain functions (what most parts need)."""

    name: str
    faults: frozenset[str] = frozenset()
    fills: Mapping[tuple[str, str], Fill] = field(default_factory=dict)
    rewrites: Mapping[tuple[str, str], Rewrite] = field(default_factory=dict)
    on_seed: Callable[[World, dict[str, Any]], None] | None = None
    on_reconcile: Callable[[World, frozenset[str]], None] | None = None
    on_tick: Callable[[World], None] | None = None

    def seed(self, world: World, config: dict[str, Any]) -> None:
        if self.on_seed:
            self.on_seed(world, config)

    def reconcile(self, world: World, active: frozenset[str]) -> None:
        if self.on_reconcile:
            self.on_reconcile(world, active)

    def tick(self, world: World) -> None:
        if self.on_tick:
            self.on_tick(world)


def load(reference: str) -> AwsExtension:
    """The extension `module:attribute` names."""
    import importlib

    module_name, _, attribute = reference.partition(":")
    extension: AwsExtension = getattr(importlib.import_module(module_name), attribute)
    return extension
