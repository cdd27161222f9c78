"""What the frontend tests share: a run of the frontend checks against the session sandbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import REPO, VerifyRun

CHECKS = str(REPO / "verify" / "checks" / "test_frontends.py")


@pytest.fixture
def frontend_run(
    run_verify: Callable[..., VerifyRun], sandbox_state: Any
) -> Callable[..., VerifyRun]:
    """`pytest --env=local -m "smoke or deep"` of the frontend checks only, with the release;
    `frontend_run("support")` runs one surface's checks (the sandbox's faults act on support)."""

    def run(surface: str | None = None, *extra: str) -> VerifyRun:
        narrow = ["-k", surface] if surface else []
        return run_verify(
            "--env=local",
            "-m",
            "smoke or deep",
            f"--release={sandbox_state.release}",
            *narrow,
            *extra,
            CHECKS,
        )

    return run
