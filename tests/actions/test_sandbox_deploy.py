"""`verify sandbox deploy`: a rollout IN_PROGRESS until it converges; one-line errors."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from verify.sandbox.cli import sandbox


@pytest.fixture
def undo(sandbox_dir: Path) -> Iterator[None]:
    from verify.sandbox import deploy

    yield
    deploy.reset(sandbox_dir)


def test_a_deploy_stays_in_progress_until_it_converges(
    sandbox_dir: Path, sandbox_aws: Callable[[str], Any], undo: None
) -> None:
    from verify.sandbox import deploy

    answer = deploy.deploy(sandbox_dir, "2026.12.06-5", converge_after=3)
    ecs = sandbox_aws("ecs")

    def app_api() -> dict[str, Any]:
        found = ecs.describe_services(cluster="mobilytics-local", services=["app-api"])
        return dict(found["services"][0])

    rolling = app_api()
    assert [d["status"] for d in rolling["deployments"]] == ["PRIMARY", "ACTIVE"]
    assert rolling["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    assert rolling["deployments"][0]["taskDefinition"] == answer["revisions"]["app-api"]
    time.sleep(max(answer["converge_at"] - time.time(), 0) + 0.2)
    done = app_api()
    assert [d["rolloutState"] for d in done["deployments"]] == ["COMPLETED"]
    assert done["deployments"][0]["taskDefinition"] == answer["revisions"]["app-api"]
    assert done["runningCount"] == done["desiredCount"]


def test_errors_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(sandbox, ["deploy", "--dir", str(tmp_path), "--release", "R"])
    assert missing.exit_code == 2
    assert missing.output.strip().splitlines() == [
        f"verify sandbox: no sandbox running in {tmp_path} (start one with `verify sandbox up`)"
    ]
    no_release = runner.invoke(sandbox, ["deploy", "--dir", str(tmp_path)])
    assert no_release.exit_code == 2 and "--release is required" in no_release.output
