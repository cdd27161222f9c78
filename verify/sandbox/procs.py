"""The sandbox's processes by pid: start detached, wait until announced, recognise, stop for sure.

A process is recognised by a marker in its command line (so a reused pid is never signalled):
`verify.sandbox` for the sandbox's own Python processes, a config path or data directory for
redis-server, node or postgres.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from verify.sandbox import readyfile
from verify.sandbox.errors import SandboxError

SANDBOX_MARKER = "verify.sandbox"
# (signal, seconds to wait for the process to go) in turn: polite, then sure.
TERMINATE = ((signal.SIGTERM, 3.0), (signal.SIGKILL, 2.0))

# Popen objects of the children this process started: kept so they are reaped, not left zombies.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def start(
    argv: Sequence[str],
    log: Path,
    *,
    cwd: Path | None = None,
    stdin_data: bytes | None = None,
    env: dict[str, str] | None = None,
) -> int:
    """Start `argv` in its own session, output to `log`; secrets go on stdin, never in argv."""
    with open(log, "ab") as out:
        child = subprocess.Popen(
            list(argv),
            cwd=cwd,
            stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            env=env,
        )
    if stdin_data is not None and child.stdin is not None:
        child.stdin.write(stdin_data)
        child.stdin.close()
    _CHILDREN[child.pid] = child
    return child.pid


def spawn(module: str, args: list[str], log: Path, stdin_data: bytes | None = None) -> int:
    """Start `python -m module args` (a sandbox process); return its pid."""
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    # Everything the sandbox talks to is on loopback: never route it through a proxy.
    env["NO_PROXY"] = ",".join(filter(None, [env.get("NO_PROXY"), "127.0.0.1", "localhost"]))
    return start([sys.executable, "-m", module, *args], log, stdin_data=stdin_data, env=env)


def pid_alive(pid: int, marker: str = SANDBOX_MARKER) -> bool:
    """`pid` runs (a stopped process counts), is no zombie and its command line holds `marker`."""
    child = _CHILDREN.get(pid)
    if child is not None:  # ours: its command line may not show the marker yet (before exec)
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    proc = Path(f"/proc/{pid}")
    try:
        stat = (proc / "stat").read_text()
        cmdline = (proc / "cmdline").read_bytes()
    except OSError:
        return True  # no procfs: signal 0 is all we have
    if stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X"):
        return False
    return marker.encode() in cmdline


def signal_pid(pid: int, sig: signal.Signals, marker: str = SANDBOX_MARKER) -> bool:
    """Send `sig` to `pid` if it is still the process we started; False when it is gone."""
    if not pid_alive(pid, marker):
        return False
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True


def stop(
    pid: int,
    marker: str = SANDBOX_MARKER,
    *,
    signals: Sequence[tuple[signal.Signals, float]] = TERMINATE,
) -> None:
    """Send `signals` in turn (after SIGCONT: it may be stopped); returns once `pid` is gone."""
    signal_pid(pid, signal.SIGCONT, marker)
    for sig, wait_s in signals:
        if not signal_pid(pid, sig, marker):
            break
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and pid_alive(pid, marker):
            time.sleep(0.02)
    child = _CHILDREN.pop(pid, None)
    if child is not None and child.poll() is None:
        child.wait(timeout=2)


def wait_ready(path: Path, pid: int, timeout_s: float, log: Path) -> dict[str, Any]:
    """Poll for the ready file `pid` writes; fail fast if the process dies first."""
    deadline = time.monotonic() + timeout_s
    while True:
        data = readyfile.read(path)
        if data is not None and data.get("pid") == pid:
            return data
        if not pid_alive(pid):
            raise SandboxError(f"{path.stem} process {pid} exited while starting; see {log}")
        if time.monotonic() > deadline:
            raise SandboxError(
                f"{path.stem} process {pid} not ready after {timeout_s:.0f} s; see {log}"
            )
        time.sleep(0.02)
