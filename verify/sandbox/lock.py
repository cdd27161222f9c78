"""An exclusive lock per sandbox dir, so concurrent up/down/break/heal (xdist workers) serialise."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def locked(dir: Path) -> Iterator[None]:
    """Hold `<dir>/.lock` for the duration of the block."""
    dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(dir / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
