"""Start and stop the sandbox: its parts, in parallel where none waits on another, by pid."""

from __future__ import annotations

import importlib.util
import logging
import secrets
import string
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from verify.sandbox import procs, readyfile, spec
from verify.sandbox.errors import SandboxError
from verify.sandbox.lock import locked
from verify.sandbox.parts import PARTS, waves
from verify.sandbox.parts.aws import base_secrets, load_extension, push_secrets
from verify.sandbox.state import STATE_FILE, SandboxState, load_state, read_state, save_state

if TYPE_CHECKING:
    from collections.abc import Iterable

    from verify.sandbox.part import Progress

log = logging.getLogger("verify.sandbox")


def _access_key_id() -> str:
    """A per-sandbox key pair, random so it can be grepped for in every output."""
    return "AKIA" + "".join(
        secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16)
    )


def up(
    dir: Path,
    *,
    parts: Iterable[str] | None = None,
    latency_ms: int = 0,
    release: str = spec.DEFAULT_RELEASE,
    previous_release: str = spec.DEFAULT_PREVIOUS_RELEASE,
    progress: Progress | None = None,
) -> SandboxState:
    """Start the sandbox's `parts` (default: all) in `dir`, or add what is missing to the one
    running there; progress lines to `progress`."""
    say: Progress = progress or log.info
    dir = Path(dir).absolute()
    wanted = list(PARTS) if parts is None else ["aws", *[p for p in parts if p != "aws"]]
    unknown = [p for p in wanted if p not in PARTS]
    if unknown:
        raise SandboxError(f"unknown sandbox part {unknown[0]!r}; parts: {', '.join(PARTS)}")
    with locked(dir):
        state = load_state(dir)
        if state is not None:
            missing = [p for p in wanted if p not in state.parts]
            say(
                f"already running in {dir}: reusing it"
                + (f"; adding {', '.join(missing)}" if missing else "")
            )
            if release != state.release:
                say(f"note: it serves release {state.release}, not {release} (down, then up)")
            if latency_ms != state.latency_ms:
                set_latency(state, latency_ms)
                say(f"latency set to {latency_ms} ms")
            if missing:
                try:
                    _start_parts(state, missing, say)
                except BaseException:
                    _stop_parts(state, [p for p in missing if p in state.parts])
                    raise
                save_state(state)
            return state
        if importlib.util.find_spec("moto") is None:
            raise SandboxError("the sandbox needs its extra: pip install 'verify[sandbox]'")
        _stop_leftovers(dir)
        started = time.monotonic()
        state = SandboxState(
            dir=dir,
            release=release,
            previous_release=previous_release,
            region=spec.REGION,
            account_id=spec.ACCOUNT_ID,
            access_key_id=_access_key_id(),
            secret_access_key=secrets.token_urlsafe(30),
            token=secrets.token_urlsafe(32),
            latency_ms=latency_ms,
            secrets=base_secrets(dir),
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        try:
            _start_parts(state, wanted, say)
        except BaseException:
            _stop_parts(state, list(state.parts))
            raise
        state.startup_s = round(time.monotonic() - started, 3)
        save_state(state)
        return state


def _stop_parts(state: SandboxState, names: list[str]) -> None:
    """Stop parts that started before a later one failed: each by its own stop (a part may run
    processes it does not list in `pids`, such as PostgreSQL's servers), then any pid left."""
    for name in names:
        part_state = state.parts.pop(name)
        try:
            PARTS[name].stop(part_state)
        except Exception as exc:  # keep going: every other process must still stop
            log.warning("stopping %s: %s", name, exc)
        for pid in part_state.pids.values():
            procs.stop(pid)


def _start_parts(state: SandboxState, names: list[str], say: Progress) -> None:
    """Start `names` wave by wave (parallel within a wave), then wire their AWS side."""
    for wave in waves(names):
        ctx = state.context(say)
        say(f"starting {', '.join(wave)}")
        with ThreadPoolExecutor(len(wave), thread_name_prefix="verify-sandbox-up") as pool:
            futures = {name: pool.submit(PARTS[name].start, ctx) for name in wave}
            errors = []
            for name, future in futures.items():
                try:
                    state.parts[name] = future.result()
                except Exception as exc:
                    errors.append(f"{name}: {exc}")
        for part_state in state.parts.values():
            state.secrets.update(part_state.secrets)
        if errors:
            raise SandboxError(f"sandbox part failed to start: {'; '.join(errors)}")
    ctx = state.context(say)
    for name in names:
        reference = PARTS[name].aws_extension
        if reference is not None:
            load_extension(ctx, reference, state.parts[name].data)
    push_secrets(ctx, {k: v for n in names for k, v in state.parts[n].secrets.items()})


def set_latency(state: SandboxState, latency_ms: int) -> None:
    """Change the injected per-request latency of a running sandbox (AWS and the API)."""
    state.latency_ms = latency_ms
    ctx = state.context()
    for name, part_state in state.parts.items():
        setter = getattr(PARTS[name], "set_latency", None)
        if setter is not None:
            setter(ctx, part_state, latency_ms)
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
        for name, part_state in state.parts.items():
            try:
                PARTS[name].stop(part_state)
            except Exception as exc:  # keep going: every other process must still stop
                log.warning("stopping %s: %s", name, exc)
            pids.update(part_state.pids.values())
    for ready_file in dir.glob("*.ready.json"):
        ready = readyfile.read(ready_file)
        if ready is not None and isinstance(ready.get("pid"), int):
            pids.add(ready["pid"])
        ready_file.unlink(missing_ok=True)
    for pid in sorted(pids):
        procs.stop(pid)
    (dir / STATE_FILE).unlink(missing_ok=True)
