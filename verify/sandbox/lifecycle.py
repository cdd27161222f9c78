"""Start and stop the sandbox: the AWS process and the demo API, detached, tracked by pid."""

from __future__ import annotations

import importlib.util
import json
import logging
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from verify.sandbox import api_mode, control, procs, readyfile, spec
from verify.sandbox.errors import SandboxError
from verify.sandbox.lock import locked
from verify.sandbox.readyfile import API_READY, AWS_READY
from verify.sandbox.state import STATE_FILE, SandboxState, load_state, read_state, save_state

log = logging.getLogger("verify.sandbox")
Progress = Callable[[str], None]
AWS_START_TIMEOUT_S = 60.0
API_START_TIMEOUT_S = 15.0


def up(
    dir: Path,
    *,
    latency_ms: int = 0,
    release: str = spec.DEFAULT_RELEASE,
    previous_release: str = spec.DEFAULT_PREVIOUS_RELEASE,
    progress: Progress | None = None,
) -> SandboxState:
    """Start the sandbox in `dir`, or reuse the one running there; progress lines to `progress`."""
    say: Progress = progress or log.info
    dir = Path(dir).absolute()
    with locked(dir):
        current = load_state(dir)
        if current is not None:
            say(f"already running in {dir}: reusing it")
            if release != current.release:
                say(f"note: it serves release {current.release}, not {release} (down, then up)")
            if latency_ms != current.latency_ms:
                set_latency(current, latency_ms)
                say(f"latency set to {latency_ms} ms")
            return current
        if importlib.util.find_spec("moto") is None:
            raise SandboxError("the sandbox needs its extra: pip install 'verify[sandbox]'")
        _stop_leftovers(dir)
        started = time.monotonic()
        values = {name: secrets.token_urlsafe(32) for name in spec.SECRET_NAMES}
        api_mode.write(dir, api_mode.ApiMode(latency_ms, []))
        say("starting AWS (moto + overlay) and the demo API")
        aws_log = dir / "aws.log"
        aws_pid = procs.spawn(
            "verify.sandbox.server",
            [
                "--dir",
                str(dir),
                "--release",
                release,
                "--previous-release",
                previous_release,
                "--latency-ms",
                str(latency_ms),
            ],
            aws_log,
            stdin_data=json.dumps({"secret_values": values}).encode(),
        )
        api_pid = None
        try:
            api_pid, api_port = start_api(dir, 0, release, previous_release)
            say(f"demo API ready on 127.0.0.1:{api_port}")
            aws = procs.wait_ready(dir / AWS_READY, aws_pid, AWS_START_TIMEOUT_S, aws_log)
            aws_url = f"http://127.0.0.1:{aws['aws_port']}"
            control.call(aws_url, "status")
            say(f"AWS ready on {aws_url} (moto started and seeded in {aws['seed_s']:.2f} s)")
        except BaseException:
            for pid in (aws_pid, api_pid):
                if pid is not None:
                    procs.stop(pid)
            raise
        state = SandboxState(
            dir=dir,
            release=release,
            previous_release=previous_release,
            region=spec.REGION,
            account_id=spec.ACCOUNT_ID,
            endpoints={"aws": aws_url, "api": f"http://127.0.0.1:{api_port}"},
            pids={"aws": aws_pid, "api": api_pid},
            access_key_id=spec.ACCESS_KEY_ID,
            secret_access_key=spec.SECRET_ACCESS_KEY,
            latency_ms=latency_ms,
            faults=[],
            moto_endpoint=f"http://127.0.0.1:{aws['moto_port']}",
            secrets=values,
            resources={str(k): str(v) for k, v in aws.get("resources", {}).items()},
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            startup_s=round(time.monotonic() - started, 3),
        )
        save_state(state)
        return state


def start_api(dir: Path, port: int, release: str, previous_release: str) -> tuple[int, int]:
    """Start the demo API on `port` (0 = a free one); (pid, port) once it listens."""
    (dir / API_READY).unlink(missing_ok=True)
    api_log = dir / "api.log"
    pid = procs.spawn(
        "verify.sandbox.demo_api",
        [
            "--dir",
            str(dir),
            "--port",
            str(port),
            "--release",
            release,
            "--previous-release",
            previous_release,
        ],
        api_log,
    )
    try:
        ready = procs.wait_ready(dir / API_READY, pid, API_START_TIMEOUT_S, api_log)
    except BaseException:
        procs.stop(pid)
        raise
    return pid, int(ready["port"])


def set_latency(state: SandboxState, latency_ms: int) -> None:
    """Change the injected per-request latency of a running sandbox."""
    control.call(state.endpoints["aws"], "latency", {"latency_ms": latency_ms})
    mode = api_mode.read(state.dir)
    api_mode.write(state.dir, api_mode.ApiMode(latency_ms, mode.faults))
    state.latency_ms = latency_ms
    save_state(state)


def down(dir: Path) -> None:
    """Stop every sandbox process of `dir` by pid and remove its state; idempotent."""
    dir = Path(dir).absolute()
    if not dir.is_dir():
        return
    with locked(dir):
        _stop_leftovers(dir)


def _stop_leftovers(dir: Path) -> None:
    """Stop what a previous run recorded (state or ready files) and clear those files."""
    pids: set[int] = set()
    state = read_state(dir)
    if state is not None:
        pids.update(state.pids.values())
    for name in (AWS_READY, API_READY):
        ready = readyfile.read(dir / name)
        if ready is not None and isinstance(ready.get("pid"), int):
            pids.add(ready["pid"])
    for pid in sorted(pids):
        procs.stop(pid)
    for name in (STATE_FILE, AWS_READY, API_READY, api_mode.FILE_NAME):
        (dir / name).unlink(missing_ok=True)
