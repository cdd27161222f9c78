"""A real PostgreSQL 15 server for the sandbox: initdb, start, stop by pid, base backups.

Run as root, the servers run as the unprivileged `postgres` user (`runuser -u postgres --`):
initdb and postgres refuse to run as root. Nothing listens beyond 127.0.0.1, and the superuser has
no password at all: it logs in only over a Unix socket in a 0700 directory, by peer identity
(root and the server's own user map to it), so nobody else on the machine can become it.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verify.sandbox import procs
from verify.sandbox.errors import SandboxError

if TYPE_CHECKING:
    from psycopg import Connection

BIN_DIRS = ("/usr/lib/postgresql/15/bin",)
SERVER_USER = "postgres"  # the unprivileged user Debian's postgresql package creates
# Unix socket paths are limited to 107 bytes: a deeper sandbox dir gets a short tmp root.
MAX_ROOT_LENGTH = 80
START_TIMEOUT_S = 30
STOP_GRACE_S = 5.0
TMPFS = Path(os.environ.get("VERIFY_PG_TMPFS", "/dev/shm"))
TMPFS_MIN_FREE = 512 * 1024 * 1024


def bin_dir() -> Path:
    """Where PostgreSQL 15's server binaries are ($VERIFY_PG_BIN first)."""
    for candidate in (os.environ.get("VERIFY_PG_BIN"), *BIN_DIRS):
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    raise SandboxError(
        "PostgreSQL 15 server binaries not found (apt-get install postgresql-15, or set VERIFY_PG_BIN)"
    )


@dataclass(frozen=True)
class Runner:
    """Runs PostgreSQL's programs as the server's user (`postgres` when we are root)."""

    os_user: str | None  # None: as ourselves

    @classmethod
    def detect(cls) -> Runner:
        return cls(SERVER_USER if os.geteuid() == 0 else None)

    @property
    def superuser(self) -> str:
        """The database superuser: named like the OS user, so peer authentication matches."""
        return self.os_user or getpass.getuser()

    def argv(self, *command: str) -> list[str]:
        return ["runuser", "-u", self.os_user, "--", *command] if self.os_user else list(command)

    def run(self, *command: str, timeout: float = 60, env: dict[str, str] | None = None) -> None:
        """Run a PostgreSQL program; a failure raises SandboxError with its last output lines."""
        environ = {**os.environ, **(env or {}), "LC_ALL": "C"}
        done = subprocess.run(
            self.argv(*command),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=environ,
            cwd="/",  # the server's user may not be able to enter our working directory
        )
        if done.returncode != 0:
            tail = " ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
            raise SandboxError(f"{Path(command[0]).name} failed ({done.returncode}): {tail}")

    def give(self, path: Path) -> None:
        """Make `path` the server user's (data directories must be owned by it)."""
        if self.os_user:
            shutil.chown(path, self.os_user, self.os_user)

    def can_enter(self, directory: Path) -> bool:
        """The server's user can reach `directory` (every parent searchable by it)."""
        if self.os_user is None:
            return True
        done = subprocess.run(self.argv("test", "-x", str(directory)), capture_output=True, cwd="/")
        return done.returncode == 0


def make_root(sandbox_dir: Path, runner: Runner) -> tuple[Path, bool]:
    """The directory holding the data dirs, sockets and logs, owned by the server's user.

    A fresh private directory in memory (/dev/shm) when it has room: on a machine busy writing
    to disk, a cluster's 20 MB there start in a fraction of the time. Else under the sandbox dir
    when the server's user can enter it (and the socket path stays short), else a fresh private
    directory under the system tmp dir. (path, whether it is such a separate directory).
    """
    inside = sandbox_dir / "postgres"
    if _roomy(TMPFS):
        root, temporary = Path(tempfile.mkdtemp(prefix="verify-pg-", dir=TMPFS)), True
    elif len(str(inside)) <= MAX_ROOT_LENGTH and runner.can_enter(sandbox_dir):
        if inside.exists():
            shutil.rmtree(inside)
        inside.mkdir(mode=0o700)
        root, temporary = inside, False
    else:
        root, temporary = Path(tempfile.mkdtemp(prefix="verify-pg-")), True
    (root / "run").mkdir(mode=0o700)
    for path in (root, root / "run"):
        runner.give(path)
    return root, temporary


def _roomy(directory: Path) -> bool:
    try:
        return directory.is_dir() and shutil.disk_usage(directory).free >= TMPFS_MIN_FREE
    except OSError:
        return False


def remove_root(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)


def free_port() -> int:
    """A free loopback port (picked right before the server binds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def server_conf(port: int, socket_dir: Path, extra: dict[str, str] | None = None) -> str:
    """postgresql.conf lines for a sandbox server (appended: later lines win)."""
    settings = {
        "listen_addresses": "'127.0.0.1'",
        "port": str(port),
        "unix_socket_directories": f"'{socket_dir}'",
        "unix_socket_permissions": "0700",
        # Throwaway data: durability buys nothing here and costs seconds on a loaded machine.
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "wal_level": "replica",
        "max_wal_senders": "5",
        "max_replication_slots": "5",
        "shared_buffers": "16MB",
        "max_connections": "40",
        # A standby reports its positions every second and reconnects within 200 ms.
        "wal_receiver_status_interval": "1s",
        "wal_retrieve_retry_interval": "200ms",
        "log_line_prefix": "'%m [%p] %q%u@%d '",
        **(extra or {}),
    }
    return "\n# verify sandbox\n" + "".join(f"{k} = {v}\n" for k, v in settings.items())


def hba_conf(superuser: str) -> str:
    """Superuser over the socket by peer identity only; everyone else by password over TCP."""
    return (
        f"local all {superuser} peer map=verify\n"
        f"local replication {superuser} peer map=verify\n"
        "host all all 127.0.0.1/32 scram-sha-256\n"
    )


def ident_conf(runner: Runner) -> str:
    users = {runner.superuser, getpass.getuser()}
    return "".join(f"verify {user} {runner.superuser}\n" for user in sorted(users))


def write_as(runner: Runner, path: Path, text: str, append: bool = False) -> None:
    with path.open("a" if append else "w") as handle:
        handle.write(text)
    runner.give(path)


def initdb(runner: Runner, data: Path) -> None:
    """A new cluster in `data` (owned by the server's user), configured for the sandbox.

    initdb costs a second or more; its output depends only on the binaries and the superuser, so
    the first run keeps a copy (private, in the user's cache dir) and later ones copy that.
    """
    template = template_dir(runner)
    if template is not None and (template / "PG_VERSION").is_file():
        shutil.copytree(template, data, symlinks=True)
        for path in (data, *data.rglob("*")):
            runner.give(path)
    else:
        runner.run(
            str(bin_dir() / "initdb"),
            "-D",
            str(data),
            "-U",
            runner.superuser,
            "--auth-local=peer",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
            # 1 MB WAL segments instead of 16: a fresh cluster and a base backup write a
            # fraction of the bytes, which on a busy machine is most of their time.
            "--wal-segsize=1",
        )
        if template is not None:
            _keep_template(data, template)
    write_as(runner, data / "pg_hba.conf", hba_conf(runner.superuser))
    write_as(runner, data / "pg_ident.conf", ident_conf(runner))


def template_dir(runner: Runner) -> Path | None:
    """Where initdb's output for these binaries and this superuser is kept ($VERIFY_PG_CACHE=off:
    nowhere)."""
    setting = os.environ.get("VERIFY_PG_CACHE", "")
    if setting == "off":
        return None
    cache = (
        Path(setting)
        if setting
        else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "verify"
    )
    initdb_bin = bin_dir() / "initdb"
    key = f"{initdb_bin.parent.parent.name}-{int(initdb_bin.stat().st_mtime)}-w1-{runner.superuser}"
    return cache / f"pg-template-{key}"


def _keep_template(data: Path, template: Path) -> None:
    """Copy a fresh cluster to `template` (atomically: concurrent sandboxes may race to it)."""
    try:
        template.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=template.parent))
        shutil.copytree(data, staging / "data", symlinks=True)
        with contextlib.suppress(OSError):  # another sandbox kept one first
            (staging / "data").rename(template)
        shutil.rmtree(staging, ignore_errors=True)
    except OSError:
        pass  # a cache is an optimisation: no cache, no harm


def base_backup(runner: Runner, socket_dir: Path, port: int, data: Path, slot: str) -> None:
    """A streaming replica of the server on `port` in `data`: -R writes its primary_conninfo."""
    runner.run(
        str(bin_dir() / "pg_basebackup"),
        "-h",
        str(socket_dir),
        "-p",
        str(port),
        "-U",
        runner.superuser,
        "-D",
        str(data),
        "-R",
        "-X",
        "stream",
        "-c",
        "fast",
        "-C",
        "-S",
        slot,
        "--no-sync",
    )


def start(runner: Runner, data: Path, log: Path) -> int:
    """Start the server of `data` (pg_ctl waits until it accepts connections); its pid."""
    if not log.exists():
        write_as(runner, log, "")
    runner.run(
        str(bin_dir() / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(log),
        "-w",
        "-t",
        str(START_TIMEOUT_S),
        "start",
        timeout=START_TIMEOUT_S + 5,
    )
    pid = server_pid(data)
    if pid is None:
        raise SandboxError(f"PostgreSQL in {data} started but wrote no pid; see {log}")
    return pid


def server_pid(data: Path) -> int | None:
    """The postmaster's pid from its pid file, when that process runs."""
    try:
        pid = int((data / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    return pid if alive(pid, data) else None


def alive(pid: int, data: Path) -> bool:
    """`pid` is the postmaster of `data` (not a reused pid, not a zombie)."""
    return procs.pid_alive(pid, str(data))


def stop(pid: int, data: Path) -> None:
    """Fast shutdown (SIGINT), then immediate (SIGQUIT), then SIGKILL; returns once it is gone."""
    shutdown = ((signal.SIGINT, STOP_GRACE_S), (signal.SIGQUIT, 2.0), (signal.SIGKILL, 2.0))
    procs.stop(pid, str(data), signals=shutdown)


def admin(socket_dir: Path, port: int, runner: Runner, dbname: str = "postgres") -> Connection[Any]:
    """A superuser session over the server's private socket (autocommit)."""
    import psycopg

    return psycopg.connect(
        host=str(socket_dir),
        port=port,
        user=runner.superuser,
        dbname=dbname,
        autocommit=True,
        connect_timeout=5,
        application_name="verify-sandbox",
    )
