"""The sandbox state file: where it lives, what it records, whether its processes still run."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from verify.sandbox import procs
from verify.sandbox.part import PartContext, PartState, Progress

DEFAULT_DIR = ".sandbox"
STATE_FILE = "state.json"


def sandbox_dir(explicit: str | Path | None = None) -> Path:
    """`explicit`, else $VERIFY_SANDBOX_DIR, else ./.sandbox (made absolute; not created)."""
    chosen = explicit or os.environ.get("VERIFY_SANDBOX_DIR") or DEFAULT_DIR
    return Path(chosen).absolute()


@dataclass
class SandboxState:
    """A running sandbox: its parts (endpoints, pids, data), releases, keys and token."""

    dir: Path
    release: str
    previous_release: str
    region: str
    account_id: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    token: str = field(repr=False)  # every control and AWS request carries it
    latency_ms: int = 0
    parts: dict[str, PartState] = field(default_factory=dict, repr=False)
    secrets: dict[str, str] = field(default_factory=dict, repr=False)  # name -> generated value
    started_at: str = ""
    startup_s: float = 0.0

    @property
    def endpoints(self) -> dict[str, str]:
        return {name: url for part in self.parts.values() for name, url in part.endpoints.items()}

    @property
    def pids(self) -> dict[str, int]:
        return {
            f"{name}.{proc}": pid
            for name, part in self.parts.items()
            for proc, pid in part.pids.items()
        }

    @property
    def faults(self) -> list[str]:
        """The faults break/heal applied (`verify sandbox status` asks the parts themselves)."""
        return sorted(f for part in self.parts.values() for f in part.faults)

    def alive(self) -> bool:
        """Every recorded process runs (a part may have none while one of its faults holds)."""
        pids = list(self.pids.values())
        return "aws" in self.parts and all(procs.pid_alive(pid) for pid in pids)

    def context(self, progress: Progress | None = None) -> PartContext:
        return PartContext(
            dir=self.dir,
            release=self.release,
            previous_release=self.previous_release,
            token=self.token,
            latency_ms=self.latency_ms,
            secrets=self.secrets,
            endpoints=self.endpoints,
            parts=self.parts,
            progress=progress or (lambda line: None),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "dir": str(self.dir),
            "release": self.release,
            "previous_release": self.previous_release,
            "region": self.region,
            "account_id": self.account_id,
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "token": self.token,
            "latency_ms": self.latency_ms,
            "parts": {name: part.to_json() for name, part in self.parts.items()},
            "secrets": self.secrets,
            "started_at": self.started_at,
            "startup_s": self.startup_s,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SandboxState:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["dir"] = Path(known["dir"])
        known["parts"] = {n: PartState.from_json(p) for n, p in (data.get("parts") or {}).items()}
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
