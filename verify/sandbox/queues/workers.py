"""The sandbox's BullMQ workers (Node and Python, one queue per process) and its producer."""

from __future__ import annotations

import base64
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verify.sandbox import procs
from verify.sandbox.errors import SandboxError
from verify.sandbox.queues.jobs import PREFIX

READY_TIMEOUT_S = 20.0
# Short locks so a hung worker's jobs show as stalled within seconds (BullMQ's default is 30 s).
LOCK_DURATION_MS = 4000
STALLED_INTERVAL_MS = 3000


@dataclass(frozen=True)
class WorkerSpec:
    kind: str  # "node" | "python"
    queue: str

    @property
    def name(self) -> str:
        return f"{'node' if self.kind == 'node' else 'py'}-{self.queue}"

    def client_name(self) -> str:
        """The CLIENT SETNAME of its connection (how BullMQ and the probe find workers)."""
        if self.kind == "node":
            return f"{PREFIX}:{base64.b64encode(self.queue.encode()).decode()}:w:{self.name}"
        return f"{PREFIX}:{self.queue}:w:{self.name}"


WORKERS = (
    WorkerSpec("node", "emails"),
    WorkerSpec("python", "emails"),
    WorkerSpec("node", "imports"),
    WorkerSpec("node", "notifications"),
    WorkerSpec("python", "notifications"),
    WorkerSpec("node", "mirror-refresh"),
)
BY_NAME = {w.name: w for w in WORKERS}


def of_queue(queue: str) -> list[WorkerSpec]:
    return [w for w in WORKERS if w.queue == queue]


def node_marker(node_dir: Path) -> str:
    return str(node_dir / "worker.cjs")


def _config(spec: WorkerSpec, options: dict[str, Any]) -> dict[str, Any]:
    return {
        "queue": spec.queue,
        "name": spec.name,
        "prefix": PREFIX,
        "concurrency": 1,
        "lockDuration": LOCK_DURATION_MS,
        "stalledInterval": STALLED_INTERVAL_MS,
    }


def start(spec: WorkerSpec, options: dict[str, Any], node_dir: Path, logs: Path) -> int:
    """Start one worker; returns its pid (wait for it with `wait_connected`)."""
    config = _config(spec, options)
    log = logs / f"worker-{spec.name}.log"
    if spec.kind == "node":
        node = shutil.which("node") or "node"
        conn = {k: options[k] for k in ("host", "port", "username", "password")}
        payload = {**config, **conn, "ca": options["ssl_ca_certs"]}
        return procs.start(
            [node, node_marker(node_dir), spec.name], log, cwd=node_dir,
            stdin_data=json.dumps(payload).encode(),
        )  # fmt: skip
    payload = {**config, "connection": options}
    return procs.spawn(
        "verify.sandbox.queues.pyworker", [spec.name], log, json.dumps(payload).encode()
    )


def alive(spec: WorkerSpec, pid: int, node_dir: Path) -> bool:
    return (
        procs.pid_alive(pid, node_marker(node_dir)) if spec.kind == "node" else procs.pid_alive(pid)
    )


def stop(spec: WorkerSpec, pid: int, node_dir: Path) -> None:
    if spec.kind == "node":
        procs.stop(pid, node_marker(node_dir))
    else:
        procs.stop(pid)


def wait_connected(
    admin: Any, specs: list[WorkerSpec], pids: dict[str, int], node_dir: Path
) -> None:
    """Until every worker's named connection shows in CLIENT LIST (its blocking loop is up)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    wanted = {s.client_name(): s for s in specs}
    while True:
        names = {c.get("name") for c in admin.client_list()}
        missing = [s for name, s in wanted.items() if name not in names]
        if not missing:
            return
        for spec in missing:
            if not alive(spec, pids[spec.name], node_dir):
                raise SandboxError(
                    f"BullMQ worker {spec.name} exited while starting; see worker-{spec.name}.log"
                )
        if time.monotonic() > deadline:
            raise SandboxError(
                f"BullMQ workers not connected after {READY_TIMEOUT_S:.0f} s: "
                + ", ".join(s.name for s in missing)
            )
        time.sleep(0.05)


def start_producer(options: dict[str, Any], logs: Path) -> int:
    payload = {"connection": options}
    return procs.spawn(
        "verify.sandbox.queues.producer", [], logs / "producer.log", json.dumps(payload).encode()
    )
