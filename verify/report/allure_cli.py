"""The Allure 3 command line (npm `allure`), installed once per version into a cache.

$VERIFY_ALLURE names an `allure` binary to use instead (Allure 3's, or allure-commandline 2.x).
Otherwise `npm ci` of verify/report/node/ runs once, under a file lock, into
$XDG_CACHE_HOME/verify/allure/<key> (else ~/.cache/verify/allure/<key>), marked complete at the end.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

SOURCE = Path(__file__).parent / "node"
FILES = ("package.json", "package-lock.json")
INSTALL_TIMEOUT_S = 600.0
GENERATE_TIMEOUT_S = 300.0
# No telemetry, update checks or colour codes from the Node tools.
NODE_ENV = {
    "NO_UPDATE_NOTIFIER": "1",
    "NO_COLOR": "1",
    "npm_config_update_notifier": "false",
    "npm_config_fund": "false",
    "npm_config_audit": "false",
}


class ReportError(Exception):
    """The report could not be built (one line)."""


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "verify" / "allure"


def key() -> str:
    digest = hashlib.sha256()
    for name in FILES:
        digest.update((SOURCE / name).read_bytes())
    return digest.hexdigest()[:16]


def allure_binary(say: Callable[[str], None]) -> Path:
    """The `allure` command: $VERIFY_ALLURE, else the cached npm install (made if missing)."""
    chosen = os.environ.get("VERIFY_ALLURE")
    if chosen:
        return Path(chosen)
    npm = shutil.which("npm")
    if npm is None:
        raise ReportError("verify report needs Node.js 20+ with npm (apt-get install nodejs npm)")
    root = cache_root() / key()
    binary = root / "node_modules" / ".bin" / "allure"
    done = root / ".verify-complete"
    root.parent.mkdir(parents=True, exist_ok=True)
    with (root.parent / f"{root.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent reports install it once
        if done.exists():
            return binary
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir()
        for name in FILES:
            shutil.copy2(SOURCE / name, root / name)
        say(f"installing the Allure 3 command line into {root} (npm ci, once) ...")
        log = root / "npm-ci.log"
        with log.open("wb") as out:
            try:
                done_ci = subprocess.run(
                    [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                    cwd=root,
                    env={**os.environ, **NODE_ENV},
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    timeout=INSTALL_TIMEOUT_S,
                )
            except subprocess.TimeoutExpired:
                raise ReportError(
                    f"npm ci took longer than {INSTALL_TIMEOUT_S:.0f} s; see {log}"
                ) from None
        if done_ci.returncode != 0:
            raise ReportError(f"npm ci of the Allure command line failed; see {log}")
        done.touch()
    return binary


def generate(results: list[Path], output: Path, name: str, say: Callable[[str], None]) -> None:
    """`allure generate RESULTS... -o OUTPUT` (the output directory is replaced)."""
    binary = allure_binary(say)
    if output.exists():
        shutil.rmtree(output)
    argv = [str(binary), "generate", *map(str, results), "-o", str(output), "--name", name]
    try:
        done = subprocess.run(
            argv,
            env={**os.environ, **NODE_ENV},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=GENERATE_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        raise ReportError(f"allure generate took longer than {GENERATE_TIMEOUT_S:.0f} s") from None
    if done.returncode != 0 or not (output / "index.html").exists():
        tail = " ".join((done.stderr or done.stdout).split())[-300:]
        raise ReportError(f"allure generate failed (exit {done.returncode}): {tail}")
