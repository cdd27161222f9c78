"""One view of the session sandbox for the sandbox tests; whatever they break is healed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.helpers import Aws, Obs, observe
from verify.sandbox import (
    SandboxState,
    heal,
    load_state,
)


@pytest.fixture(scope="module")
def sandbox(sandbox_dir: Path) -> Iterator[SandboxState]:
    """The session's sandbox (tests/conftest.py); whatever a test here breaks is healed after."""
    state = load_state(sandbox_dir)
    assert state is not None
    yield state
    heal(sandbox_dir)


@pytest.fixture(scope="module")
def aws(sandbox_aws: Callable[[str], Any]) -> Aws:
    return Aws(*(sandbox_aws(n) for n in ("ecs", "elbv2", "ec2", "cloudwatch", "secretsmanager")))


@pytest.fixture(scope="module")
def baseline(sandbox: SandboxState, aws: Aws) -> Obs:
    return observe(aws, sandbox)
