"""Ready files: a child process announces its ports once it listens."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

AWS_READY = "aws.ready.json"
API_READY = "api.ready.json"


def write(path: Path, data: dict[str, Any]) -> None:
    """Write `data` atomically (the parent polls for the file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def read(path: Path) -> dict[str, Any] | None:
    """The announced data, or None while the file is not there yet."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
