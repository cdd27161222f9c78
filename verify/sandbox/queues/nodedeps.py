"""Node packages: `npm ci` once per content hash, in a cache shared by sandboxes and tests.

The cache key is the SHA-256 of package.json and package-lock.json; a second sandbox start (or
a second sandbox) finds the installed tree and links it into its own directory: no install.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from verify.sandbox.errors import SandboxError

SOURCE = Path(__file__).resolve().parents[1] / "node"
FILES = ("package.json", "package-lock.json")
INSTALL_TIMEOUT_S = 300.0


def cache_root() -> Path:
    """$VERIFY_CACHE_DIR, else $XDG_CACHE_HOME/verify, else ~/.cache/verify."""
    explicit = os.environ.get("VERIFY_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "verify"


def content_hash(source: Path = SOURCE) -> str:
    digest = hashlib.sha256()
    for name in FILES:
        digest.update(name.encode() + b"\0" + (source / name).read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def installed_tree(source: Path, purpose: str) -> tuple[Path, bool]:
    """The cached `npm ci` of `source`'s package files; (its directory, installed now)."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise SandboxError(f"node and npm are required for {purpose}")
    key = content_hash(source)
    root = cache_root() / "node"
    target = root / key
    installed = False
    if not (target / ".complete").exists():
        root.mkdir(parents=True, exist_ok=True)
        with open(root / f".{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # two sandboxes starting at once install once
            if not (target / ".complete").exists():
                _install(npm, source, root, target, purpose)
                installed = True
    return target, installed


def ensure(workdir: Path) -> tuple[Path, bool]:
    """`workdir` holding the worker script and a link to installed node_modules; (dir, installed now)."""
    target, installed = installed_tree(SOURCE, "the sandbox's BullMQ worker")
    workdir.mkdir(parents=True, exist_ok=True)
    link = workdir / "node_modules"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target / "node_modules", target_is_directory=True)
    for name in (*FILES, "worker.cjs"):
        shutil.copyfile(SOURCE / name, workdir / name)
    return workdir, installed


def _install(npm: str, source: Path, root: Path, target: Path, purpose: str) -> None:
    staging = root / f".{target.name}.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    for name in FILES:
        shutil.copyfile(source / name, staging / name)
    try:
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error", "--omit=dev"],
            cwd=staging,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        shutil.rmtree(staging, ignore_errors=True)
        raise SandboxError(
            f"npm ci for {purpose} took over {INSTALL_TIMEOUT_S:.0f} s"
        ) from None
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        tail = " ".join(done.stderr.split()[-40:])
        raise SandboxError(f"npm ci for {purpose} failed: {tail}")
    (staging / ".complete").write_text("ok\n")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(staging, target)
