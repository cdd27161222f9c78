"""Sandbox lifecycle and CLI: reuse, private state, no secret in output, no process left."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from verify.sandbox import (
    SandboxError,
    SandboxState,
    break_fault,
    down,
    load_state,
    procs,
    up,
)
from verify.sandbox import sandbox_dir as resolve_dir
from verify.sandbox.cli import sandbox as sandbox_cli


def test_up_again_reuses_the_running_sandbox(sandbox: SandboxState) -> None:
    before = load_state(sandbox.dir)
    assert before is not None
    again = up(sandbox.dir)
    assert (again.pids, again.endpoints) == (before.pids, before.endpoints)


def test_state_file_is_private(sandbox: SandboxState) -> None:
    mode = stat.S_IMODE((sandbox.dir / "state.json").stat().st_mode)
    assert mode == 0o600
    assert "secrets" not in repr(sandbox)


def test_cli_output_never_shows_secrets(sandbox: SandboxState) -> None:
    runner = CliRunner()
    directory = str(sandbox.dir)
    outputs = []
    for args in (
        ["up", "--dir", directory],
        ["status", "--dir", directory],
        ["faults"],
        ["break", "secret-missing", "--dir", directory],
        ["status", "--dir", directory],
        ["heal", "--dir", directory],
        ["status", "--dir", directory],
    ):
        result = runner.invoke(sandbox_cli, args)
        assert result.exit_code == 0, (args, result.output)
        outputs.append(result.output)
    state = load_state(sandbox.dir)
    assert state is not None
    text = "\n".join(outputs)
    assert "sandbox reused" in text and sandbox.endpoints["aws"] in text
    logs = "\n".join(p.read_text() for p in sandbox.dir.glob("*.log"))
    for value in {*sandbox.secrets.values(), *state.secrets.values()}:
        assert value not in text
        assert value not in logs
    field = runner.invoke(sandbox_cli, ["status", "--dir", directory, "--field", "release"])
    assert (field.exit_code, field.output) == (0, f"{sandbox.release}\n")


def test_cli_errors_are_one_line_with_exit_2(sandbox: SandboxState, tmp_path: Path) -> None:
    runner = CliRunner()
    unknown = runner.invoke(sandbox_cli, ["break", "nope", "--dir", str(sandbox.dir)])
    assert unknown.exit_code == 2
    assert unknown.output.count("\n") == 1 and "known faults:" in unknown.output
    missing = runner.invoke(sandbox_cli, ["heal", "--dir", str(tmp_path)])
    assert missing.exit_code == 2 and "no sandbox running" in missing.output
    assert "Traceback" not in unknown.output + missing.output
    status = runner.invoke(sandbox_cli, ["status", "--dir", str(tmp_path)])
    assert status.exit_code == 1
    with pytest.raises(SandboxError):
        break_fault(tmp_path, "api-5xx")


def test_cli_up_then_down_leaves_no_process(tmp_path: Path) -> None:
    runner = CliRunner()
    directory = str(tmp_path / "sbx")
    started = runner.invoke(sandbox_cli, ["up", "--dir", directory, "--latency-ms", "5"])
    assert started.exit_code == 0, started.output
    state = load_state(Path(directory))
    assert state is not None and state.latency_ms == 5
    assert f"sandbox up in {state.startup_s:.2f} s" in started.output
    pids = list(state.pids.values())
    stopped = runner.invoke(sandbox_cli, ["down", "--dir", directory])
    assert stopped.exit_code == 0 and "sandbox stopped" in stopped.output
    for pid in pids:
        assert not procs.pid_alive(pid)
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert load_state(Path(directory)) is None
    assert not (Path(directory) / "state.json").exists()
    down(Path(directory))  # idempotent


def test_sandbox_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VERIFY_SANDBOX_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert resolve_dir() == tmp_path / ".sandbox"
    monkeypatch.setenv("VERIFY_SANDBOX_DIR", str(tmp_path / "env"))
    assert resolve_dir() == tmp_path / "env"
    assert resolve_dir(tmp_path / "explicit") == tmp_path / "explicit"
