"""The demo API's mode file: active API faults and latency, read by the API on every request."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

FILE_NAME = "api-mode.json"


@dataclass
class ApiMode:
    """What the demo API should do right now."""

    latency_ms: int = 0
    faults: list[str] = field(default_factory=list)


def read(dir: Path) -> ApiMode:
    """The current mode; healthy defaults when the file is absent or half-written."""
    try:
        data = json.loads((dir / FILE_NAME).read_text())
        return ApiMode(int(data.get("latency_ms", 0)), [str(f) for f in data.get("faults", [])])
    except (OSError, ValueError, TypeError, AttributeError):
        return ApiMode()


def write(dir: Path, mode: ApiMode) -> None:
    """Replace the mode atomically so a concurrent request never reads half a file."""
    tmp = dir / f".{FILE_NAME}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"latency_ms": mode.latency_ms, "faults": sorted(mode.faults)}))
    os.replace(tmp, dir / FILE_NAME)
