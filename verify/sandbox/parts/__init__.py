"""The parts of the sandbox, in start order; each module is one part (see verify.sandbox.part)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from verify.sandbox.parts.api import ApiPart
from verify.sandbox.parts.aws import AwsPart
from verify.sandbox.parts.edge import EdgePart
from verify.sandbox.parts.frontends import FrontendsPart
from verify.sandbox.parts.postgres import PostgresPart
from verify.sandbox.parts.redis import RedisPart

if TYPE_CHECKING:
    from collections.abc import Iterable

    from verify.sandbox.part import Part

PARTS: dict[str, Part] = {
    part.name: part
    for part in (AwsPart(), RedisPart(), PostgresPart(), ApiPart(), FrontendsPart(), EdgePart())
}


def needed_for(components: Iterable[str]) -> list[str]:
    """The parts the checks of `components` read (the AWS part always: it holds the secrets)."""
    wanted = set(components)
    return [name for name, part in PARTS.items() if name == "aws" or wanted & set(part.serves)]


def waves(names: Iterable[str]) -> list[list[str]]:
    """`names` in groups that can start together: a part comes after the parts it waits on."""
    pending = [name for name in PARTS if name in set(names)]
    done: set[str] = set()
    ordered: list[list[str]] = []
    while pending:
        ready = [n for n in pending if all(a in done or a not in pending for a in PARTS[n].after)]
        if not ready:
            raise ValueError(f"sandbox parts wait on each other: {', '.join(pending)}")
        ordered.append(ready)
        done.update(ready)
        pending = [n for n in pending if n not in done]
    return ordered
