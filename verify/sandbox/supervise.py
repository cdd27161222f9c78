"""A small supervisor for the sandbox's native processes (next-server, nginx).

The sandbox tracks its processes by pid and recognises its own by their command line
(`verify.sandbox`); node renames itself `next-server` and nginx calls itself `nginx: master`, so a
part starts them under this supervisor instead: `python -m verify.sandbox.supervise` (a pid the
sandbox knows), which starts each child in its own process group, waits until each listens on its
loopback port, announces their pids in a ready file, and on SIGTERM stops them all. The children
get SIGTERM too if the supervisor dies (PR_SET_PDEATHSIG), so nothing outlives the sandbox. A child
that exits on its own takes the supervisor down with it: the sandbox then reports the part dead.

The spec comes on stdin as JSON: {"ready": path, "children": [{"name", "argv", "cwd", "env",
"port", "log"}], "timeout_s": 120}.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from verify.sandbox import readyfile

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the supervisor goes away."""
    # Not Linux: the supervisor's own stop still covers it.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _stop(children: dict[str, subprocess.Popen[bytes]], grace_s: float = 2.5) -> None:
    """SIGTERM every child's process group, SIGKILL what is left after `grace_s`."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 2.0)):
        alive = [c for c in children.values() if c.poll() is None]
        if not alive:
            return
        for child in alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, sig)
        ends = time.monotonic() + wait_s
        while time.monotonic() < ends and any(c.poll() is None for c in alive):
            time.sleep(0.05)


def start_child(spec: dict[str, Any]) -> subprocess.Popen[bytes]:
    env = {**os.environ, **spec.get("env", {})}
    with open(spec["log"], "ab") as log:
        return subprocess.Popen(
            spec["argv"],
            cwd=spec.get("cwd"),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            preexec_fn=_die_with_parent,  # the supervisor runs no threads, so this is safe
        )


def start_supervised(
    ready: Path, children: list[dict[str, Any]], log: Path, timeout_s: float
) -> dict[str, Any]:
    """(In the part) start a supervisor of `children`; its ready data once all of them listen."""
    from verify.sandbox import procs

    ready.unlink(missing_ok=True)
    spec = {"ready": str(ready), "children": children, "timeout_s": timeout_s}
    pid = procs.spawn("verify.sandbox.supervise", [], log, stdin_data=json.dumps(spec).encode())
    try:
        return procs.wait_ready(ready, pid, timeout_s + 5, log)
    except BaseException:
        procs.stop(pid)
        raise


def main() -> int:
    spec = json.loads(sys.stdin.read())
    ready = Path(spec["ready"])
    children: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def on_term(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    try:
        for child in spec["children"]:
            children[child["name"]] = start_child(child)
        ends = time.monotonic() + float(spec.get("timeout_s", 120))
        waiting = {c["name"]: int(c["port"]) for c in spec["children"] if c.get("port")}
        while waiting and not stopping:
            for name, port in list(waiting.items()):
                if children[name].poll() is not None:
                    sys.stderr.write(f"supervise: {name} exited with {children[name].returncode}\n")
                    return 1
                if _listening(port):
                    del waiting[name]
            if time.monotonic() > ends:
                sys.stderr.write(f"supervise: not listening in time: {', '.join(waiting)}\n")
                return 1
            time.sleep(0.05)
        readyfile.write(
            ready, {"pid": os.getpid(), "children": {n: c.pid for n, c in children.items()}}
        )
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    sys.stderr.write(f"supervise: {name} exited with {child.returncode}\n")
                    return 1
            time.sleep(0.2)
        return 0
    finally:
        _stop(children)


if __name__ == "__main__":
    sys.exit(main())
