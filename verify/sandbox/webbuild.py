"""Install and build the sandbox's Next.js apps once, cached by content.

One `npm ci` (keyed by package.json, package-lock.json and the Node version) serves both apps;
each release's build (keyed by the app sources, the dependencies and the release, which is also
the build id) lives beside it. The cache outlives the sandbox directory (`sandbox down`, a test
session's temp dir): $VERIFY_SANDBOX_CACHE, else $XDG_CACHE_HOME/verify/sandbox, else
~/.cache/verify/sandbox. Entries are built in place and marked complete at the end, under a file
lock: concurrent sandboxes (xdist workers) build each entry once and never use half of one.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from verify.sandbox.errors import SandboxError

if TYPE_CHECKING:
    from verify.sandbox.part import Progress

SOURCE = Path(__file__).parent / "webapps"
APPS = ("support", "portal")
DEPENDENCY_FILES = ("package.json", "package-lock.json")
INSTALL_TIMEOUT_S = 900.0
BUILD_TIMEOUT_S = 900.0
HEARTBEAT_S = 15.0
_SKIP = {"node_modules", ".next", "__pycache__"}


def cache_dir() -> Path:
    """Where installs and builds are kept between sandboxes."""
    explicit = os.environ.get("VERIFY_SANDBOX_CACHE")
    if explicit:
        return Path(explicit).absolute()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "verify" / "sandbox"


# Every node process of the sandbox: no telemetry, no update checks (loopback only).
NODE_ENV = {
    "NEXT_TELEMETRY_DISABLED": "1",
    "NO_UPDATE_NOTIFIER": "1",
    "npm_config_update_notifier": "false",
    "npm_config_fund": "false",
    "npm_config_audit": "false",
}


def node_env() -> dict[str, str]:
    """This process's environment plus NODE_ENV."""
    return {**os.environ, **NODE_ENV}


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise SandboxError(
            f"the frontends part needs {name} (Node.js 20+ with npm): apt-get install nodejs npm"
        )
    return found


def _sources() -> list[Path]:
    return sorted(
        p for p in SOURCE.rglob("*") if p.is_file() and not _SKIP & set(p.relative_to(SOURCE).parts)
    )


def _digest(parts: list[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()[:16]


def dependencies_key() -> str:
    node = subprocess.run(
        [tool("node"), "--version"], capture_output=True, text=True, timeout=30, check=False
    ).stdout.strip()
    return _digest([node.encode(), *((SOURCE / f).read_bytes() for f in DEPENDENCY_FILES)])


def build_key(deps: str, release: str) -> str:
    files = [(p.relative_to(SOURCE).as_posix().encode(), p.read_bytes()) for p in _sources()]
    return _digest([deps.encode(), release.encode(), *(b for pair in files for b in pair)])


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(
    argv: list[str],
    cwd: Path,
    env: dict[str, str],
    log: Path,
    what: str,
    timeout_s: float,
    say: Progress,
) -> float:
    """Run `argv`, a progress line every HEARTBEAT_S; the seconds it took."""
    started = time.monotonic()
    with open(log, "ab") as out:
        child = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
        beat = started + HEARTBEAT_S
        while child.poll() is None:
            now = time.monotonic()
            if now - started > timeout_s:
                child.kill()
                child.wait()
                raise SandboxError(f"{what} took longer than {timeout_s:.0f} s; see {log}")
            if now >= beat:
                say(f"  ... {what} still running ({now - started:.0f} s)")
                beat += HEARTBEAT_S
            time.sleep(0.2)
    if child.returncode != 0:
        raise SandboxError(f"{what} failed (exit {child.returncode}); see {log}")
    return time.monotonic() - started


def _copy_sources(target: Path) -> None:
    for path in _sources():
        destination = target / path.relative_to(SOURCE)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)


def ensure_dependencies(say: Progress) -> Path:
    """The directory holding node_modules for both apps (installed once per content)."""
    root = cache_dir() / "webapps" / f"deps-{dependencies_key()}"
    done = root / "node_modules" / ".verify-complete"
    with _locked(root.with_suffix(".lock")):
        if done.exists():
            say(f"Next.js dependencies cached ({root.name})")
            return root
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        for name in DEPENDENCY_FILES:
            shutil.copy2(SOURCE / name, root / name)
        say("installing Next.js dependencies: npm ci (a minute or more on a fresh machine) ...")
        took = _run(
            [tool("npm"), "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            root,
            node_env(),
            root / "npm-ci.log",
            "npm ci",
            INSTALL_TIMEOUT_S,
            say,
        )
        done.touch()
        say(f"npm ci done in {took:.1f} s")
    return root


def ensure_build(root: Path, release: str, say: Progress) -> Path:
    """The build directory of both apps at `release` (built once per content)."""
    key = build_key(root.name, release)
    target = root / "builds" / key
    with _locked(root / "builds" / f"{key}.lock"):
        if (target / ".verify-complete").exists():
            say(f"Next.js build of release {release} cached ({key})")
            return target
        # Built in place (a build records its own path); the marker says it finished.
        work = target
        shutil.rmtree(work, ignore_errors=True)
        _copy_sources(work)
        env = {**node_env(), "VERIFY_BUILD_ID": release, "VERIFY_WEBAPPS_ROOT": str(root)}
        next_bin = root / "node_modules" / "next" / "dist" / "bin" / "next"
        for app in APPS:
            say(f"building {app} at release {release}: next build ...")
            took = _run(
                [tool("node"), str(next_bin), "build"],
                work / app,
                env,
                work / f"{app}-build.log",
                f"next build of {app}",
                BUILD_TIMEOUT_S,
                say,
            )
            say(f"built {app} {release} in {took:.1f} s")
        (target / ".verify-complete").touch()
    return target


def ensure(releases: list[str], say: Progress) -> tuple[Path, dict[str, Path]]:
    """(node_modules root, release -> build dir) for every release in `releases`."""
    root = ensure_dependencies(say)
    return root, {release: ensure_build(root, release, say) for release in releases}
