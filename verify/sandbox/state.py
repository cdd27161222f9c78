"""The sandbox state file: where it lives, what it records, whether its processes still run."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from verify.sandbox import procs

DEFAULT_DIR = ".sandbox"
STATE_FILE = "state.json"


def sandbox_dir(explicit: str | Path | None = None) -> Path:
    """`explicit`, else $VERIFY_SANDBOX_DIR, else ./.sandbox (made absolute)."""
    chosen = explicit or os.environ.get("VERIFY_SANDBOX_DIR") or DEFAULT_DIR
    return Path(chosen).absolute()


@dataclass
class SandboxState:
    """A running sandbox: endpoints, pids, releases and active faults."""

    dir: Path
    release: str
    previous_release: str
    region: str
    account_id: str
    endpoints: dict[str, str]  # "aws" (the overlay) and "api"
    pids: dict[str, int]  # "aws" and "api" (no "api" while api-down is active)
    access_key_id: str
    secret_access_key: str = field(repr=False)
    latency_ms: int
    faults: list[str]
    moto_endpoint: str = ""  # raw moto, bypassing the overlay: for debugging only
    secrets: dict[str, str] = field(default_factory=dict, repr=False)  # name -> generated value
    resources: dict[str, str] = field(default_factory=dict)  # cluster, target group ARN, ...
    started_at: str = ""
    startup_s: float = 0.0

    def alive(self) -> bool:
        """Every recorded process is running."""
        return bool(self.pids) and all(procs.pid_alive(pid) for pid in self.pids.values())

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        data["dir"] = str(self.dir)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SandboxState:
        """Parse what `to_json` wrote; unknown keys are ignored so versions can mix."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["dir"] = Path(known["dir"])
        return cls(**known)


def read_state(dir: Path) -> SandboxState | None:
    """The recorded state, whether or not its processes still run."""
    try:
        return SandboxState.from_json(json.loads((dir / STATE_FILE).read_text()))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def load_state(dir: Path) -> SandboxState | None:
    """The state of a running sandbox in `dir`; None when there is none or it died."""
    state = read_state(Path(dir).absolute())
    return state if state is not None and state.alive() else None


def save_state(state: SandboxState) -> None:
    """Write the state atomically, readable by the owner only (it holds the secrets)."""
    path = state.dir / STATE_FILE
    tmp = path.with_name(f".{STATE_FILE}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(state.to_json(), f, indent=2)
    os.replace(tmp, path)
