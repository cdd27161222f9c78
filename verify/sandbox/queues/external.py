"""Processes that are not `python -m verify.sandbox...` (redis-server, node): started detached,
recognised by a marker in their command line, stopped by pid."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}  # reaped by whoever started them


def start(
    argv: list[str],
    log: Path,
    *,
    cwd: Path | None = None,
    stdin_data: bytes | None = None,
    env: dict[str, str] | None = None,
) -> int:
    """Start `argv` in its own session, output to `log`; secrets go on stdin, never argv."""
    with open(log, "ab") as out:
        child = subprocess.Popen(
            argv,
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


def alive(pid: int, marker: str) -> bool:
    """`pid` runs (a stopped process counts), is no zombie and its command line holds `marker`."""
    child = _CHILDREN.get(pid)
    if child is not None:  # ours: its command line may not show the marker yet (before exec)
        return child.poll() is None
    proc = Path(f"/proc/{pid}")
    try:
        stat = (proc / "stat").read_text()
        cmdline = (proc / "cmdline").read_bytes()
    except OSError:
        return False
    if stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X"):
        return False
    return marker.encode() in cmdline


def signal_pid(pid: int, marker: str, sig: signal.Signals) -> bool:
    """Send `sig` to `pid` if it is still the process we started; False when it is gone."""
    if not alive(pid, marker):
        return False
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True


def stop(pid: int, marker: str, grace_s: float = 3.0) -> None:
    """SIGCONT (it may be stopped), SIGTERM, then SIGKILL after `grace_s`; returns once gone."""
    signal_pid(pid, marker, signal.SIGCONT)
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 2.0)):
        if not signal_pid(pid, marker, sig):
            break
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and alive(pid, marker):
            time.sleep(0.02)
    child = _CHILDREN.pop(pid, None)
    if child is not None and child.poll() is None:
        child.wait(timeout=2)
