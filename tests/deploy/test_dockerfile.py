"""The container: hadolint passes on the Dockerfile, and its install steps work in a fresh venv."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

HADOLINT = Path(sys.executable).with_name("hadolint")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    joined: list[str] = []
    pending = ""
    for raw in (REPO / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if line.startswith("#") or not line:
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in joined]


def test_hadolint_passes_on_the_dockerfile() -> None:
    done = subprocess.run(
        [str(HADOLINT), "--no-color", str(REPO / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_really_lints(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /tmp && pip install verify\n")
    done = subprocess.run(
        [str(HADOLINT), "--no-color", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "DL3007" in done.stdout  # the :latest tag


def test_the_image_entrypoint_is_verify_on_slim_python_with_debian_chromium() -> None:
    steps = instructions()
    assert steps[0][0] == "FROM" and "-slim" in steps[0][1]
    assert ("ENTRYPOINT", '["verify"]') in steps
    apt = " ".join(args for kind, args in steps if kind == "RUN" and "apt-get" in args)
    assert "chromium" in shlex.split(apt)


def test_the_images_install_steps_work_in_a_fresh_venv(tmp_path: Path) -> None:
    """COPY what the Dockerfile copies, run its `pip install`, then run `verify` from there."""
    app = tmp_path / "app"
    app.mkdir()
    pip_steps: list[list[str]] = []
    for kind, args in instructions():
        if kind == "COPY":
            *sources, _dest = shlex.split(args)
            for source in sources:
                origin = REPO / source
                if origin.is_dir():
                    shutil.copytree(
                        origin, app / source, ignore=shutil.ignore_patterns("__pycache__")
                    )
                else:
                    shutil.copy2(origin, app / source)
        if kind == "RUN" and "pip install" in args:
            for part in args.split("&&"):
                words = shlex.split(part)
                if words[:2] == ["pip", "install"]:
                    pip_steps.append(words)
    assert pip_steps, "the Dockerfile installs nothing with pip"
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("VERIFY_", "PYTHON"))}
    for words in pip_steps:
        # The image's own step; pip's cache is kept here only to spare the test the downloads.
        args = [w for w in words[2:] if w != "--no-cache-dir"]
        done = subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--disable-pip-version-check", "-q", *args],
            cwd=app,
            env=environ,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-3000:]
    verify = str(venv / "bin" / "verify")
    for command in (["--version"], ["monitor", "--help"], ["iam-policy", "--env=prod"]):
        done = subprocess.run(
            [verify, *command],
            cwd=app,
            env=environ,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, (command, done.stderr)
    # A production install: no sandbox extra (moto, bullmq) in the image.
    done = subprocess.run([str(venv / "bin" / "python"), "-c", "import moto"], capture_output=True)
    assert done.returncode != 0
