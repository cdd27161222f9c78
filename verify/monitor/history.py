"""The monitor's history: one JSON line per iteration, appended, read back by trend views."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from verify.redact import REDACT


def append(path: Path, record: dict[str, Any]) -> None:
    """Append one record as one line, masked, in a single write (a reader never sees half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = REDACT(json.dumps(record, separators=(",", ":"), default=str)) + "\n"
    # O_APPEND with one write: concurrent --once runs interleave whole lines, never bytes.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def read(path: Path) -> Iterator[dict[str, Any]]:
    """Every well-formed record (a torn last line from a killed writer is skipped)."""
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError:
        return
    with handle:
        for line in handle:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                yield record
