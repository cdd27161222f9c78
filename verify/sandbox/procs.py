"""Child processes by pid: start detached, wait until announced, stop for sure."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from verify.sandbox import readyfile
from verify.sandbox.errors import SandboxError

# Popen objects of the children this process started: kept so they are reaped, not left zombies.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def spawn(module: str, args: list[str], log: Path, stdin_data: bytes | None = None) -> int:
    """Start `python -m module args` in its own session, output to `log`; return its pid."""
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    # Everything the sandbox talks to is on loopback: never route it through a proxy.
    env["NO_PROXY"] = ",".join(filter(None, [env.get("NO_PROXY"), "127.0.0.1", "localhost"]))
    with open(log, "ab") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", module, *args],
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


def pid_alive(pid: int) -> bool:
    """The pid runs, is no zombie and, where procfs tells, is a sandbox process (not a reuse)."""
    child = _CHILDREN.get(pid)
    if child is not None:
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
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":
        return False
    return b"verify.sandbox" in cmdline


def stop(pid: int, grace_s: float = 3.0) -> None:
    """SIGTERM, then SIGKILL after `grace_s`; returns once the pid is gone (or a zombie)."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 2.0)):
        if not pid_alive(pid):
            break
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and pid_alive(pid):
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
