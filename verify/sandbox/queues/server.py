"""The sandbox's redis-server: TLS only, ACL users, maxmemory, no persistence, a free port."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verify.sandbox import procs
from verify.sandbox.errors import SandboxError

REDIS_SERVER = "redis-server"
MAXMEMORY_BYTES = 64 * 1024 * 1024
START_TIMEOUT_S = 10.0
# ACL users; a rule never names a password, only its SHA-256 (the file holds no secret).
APP_USER = "app-api"
WORKER_USER = "bullmq-workers"
ADMIN_USER = "sandbox-admin"  # the sandbox's own hand: faults and seeding, never the checks
APP_RULE = "on ~* &* +@all -@dangerous +info +client|list +ping"
ADMIN_RULE = "on ~* &* +@all"


@dataclass(frozen=True)
class RedisConfig:
    """Where the server listens and how to reach it (JSON-safe, kept in the part's data)."""

    port: int
    ca: str
    cert: str
    key: str
    dir: str

    def marker(self) -> str:
        return str(Path(self.dir) / "redis.conf")

    def client_options(self, username: str, password: str) -> dict[str, Any]:
        """redis-py (and Python bullmq) keyword arguments for a TLS + AUTH connection."""
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "ssl": True,
            "ssl_ca_certs": self.ca,
            "ssl_cert_reqs": "required",
            "username": username,
            "password": password,
        }


def binary() -> str:
    found = shutil.which(REDIS_SERVER) or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None
    )
    if found is None:
        raise SandboxError("redis-server not found: apt-get install redis-server (Debian 12)")
    return found


def free_port() -> int:
    """A free loopback port (never a fixed one: the machine may run its own Redis on 6379)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def acl_line(user: str, rule: str, password: str) -> str:
    digest = hashlib.sha256(password.encode()).hexdigest()
    return f"user {user} {rule} #{digest}"


def write_config(config: RedisConfig, passwords: dict[str, str]) -> None:
    """redis.conf and users.acl in the part's directory (owner-only)."""
    base = Path(config.dir)
    acl = base / "users.acl"
    lines = [
        "user default off nopass ~* -@all",
        acl_line(APP_USER, APP_RULE, passwords[APP_USER]),
        acl_line(WORKER_USER, APP_RULE, passwords[WORKER_USER]),
        acl_line(ADMIN_USER, ADMIN_RULE, passwords[ADMIN_USER]),
    ]
    _write_private(acl, "\n".join(lines) + "\n")
    conf = [
        "bind 127.0.0.1",
        "port 0",
        f"tls-port {config.port}",
        f"tls-cert-file {config.cert}",
        f"tls-key-file {config.key}",
        f"tls-ca-cert-file {config.ca}",
        "tls-auth-clients no",
        f"aclfile {acl}",
        f"maxmemory {MAXMEMORY_BYTES}",
        "maxmemory-policy noeviction",  # BullMQ requires it: an evicted job key is a lost job
        'save ""',
        "appendonly no",
        f"dir {base}",
        "daemonize no",
        "protected-mode yes",
        "loglevel notice",
        # Redis rewrites its command line; keep the config path in it so a pid is recognised.
        'proc-title-template "{title} {listen-addr} {config-file}"',
    ]
    _write_private(base / "redis.conf", "\n".join(conf) + "\n")


def start(config: RedisConfig) -> int:
    """Start redis-server on `config` and wait until it answers over TLS."""
    base = Path(config.dir)
    pid = procs.start([binary(), config.marker()], base / "redis.log", cwd=base)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if not procs.pid_alive(pid, config.marker()):
            raise SandboxError(f"redis-server exited while starting; see {base / 'redis.log'}")
        if _ready(base / "redis.log", pid) and _listening(config.port):
            return pid
        if time.monotonic() > deadline:
            procs.stop(pid, config.marker())
            raise SandboxError(f"redis-server not ready after {START_TIMEOUT_S:.0f} s")
        time.sleep(0.02)


def _ready(log: Path, pid: int) -> bool:
    """This server (not another one on the same port) logged that it accepts connections."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return False
    return any(
        line.startswith(f"{pid}:") and "Ready to accept connections" in line for line in lines
    )


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def stop(pid: int, config: RedisConfig) -> None:
    procs.stop(pid, config.marker())


def admin(config: RedisConfig, password: str, timeout_s: float = 5.0) -> Any:
    """A redis-py client as the sandbox's admin user (decoded answers)."""
    import redis

    return redis.Redis(
        **config.client_options(ADMIN_USER, password),
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        decode_responses=True,
    )


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
