"""The redis part on its own: TLS only, AUTH required, no secret on disk or in argv, a second
start installs nothing, and stop leaves no process behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X")


def test_start_twice_installs_once_and_stop_leaves_nothing(tmp_path: Path) -> None:
    import redis

    from verify.sandbox.part import PartContext
    from verify.sandbox.parts.redis import RedisPart

    part, installs = RedisPart(), []
    for n in range(2):
        directory = tmp_path / f"sandbox{n}"
        directory.mkdir()
        ctx = PartContext(directory, "r1", "r0", "token", 0, {}, {}, {}, lambda line: None)
        state = part.start(ctx)
        pids = dict(state.data["procs"])
        try:
            assert part.health(ctx, state) is None
            port = int(state.endpoints["redis"].rsplit(":", 1)[1])
            assert port != 6379 and state.endpoints["redis"].startswith("rediss://127.0.0.1:")
            passwords = [*state.secrets.values(), state.data["admin"]]
            assert set(state.secrets) == {
                "/mobilytics/local/app-api/redis-auth",
                "/mobilytics/local/bullmq-workers/redis-auth",
            }
            for path in (directory / "redis").rglob("*"):
                if path.is_file() and not path.is_symlink() and path.suffix != ".log":
                    assert not any(p in path.read_text(errors="replace") for p in passwords), path
            for pid in pids.values():
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
                assert not any(p in cmdline for p in passwords)
            ca = str(directory / "redis" / "tls" / "ca.crt")
            plain = redis.Redis(port=port, socket_timeout=2, retry=None)
            with pytest.raises(redis.ConnectionError):
                plain.ping()  # TLS only: no plain-text port
            anonymous = redis.Redis(port=port, ssl=True, ssl_ca_certs=ca, socket_timeout=2)
            with pytest.raises(redis.AuthenticationError):
                anonymous.ping()  # the default user is off
            anonymous.close()
            installs.append(state.data["node_installed"])
        finally:
            part.stop(state)
        assert all(gone(pid) for pid in pids.values()), pids
    assert installs[1] is False  # cached by content hash: the second start ran no npm
    assert os.path.islink(tmp_path / "sandbox1" / "redis" / "node" / "node_modules")
