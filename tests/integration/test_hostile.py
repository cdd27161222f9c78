"""Hostile endpoints cannot hurt the run: bombs, trickling and silent servers, header echoes."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import REPO, VerifyRun, run_with_environments
from tests.support.hostile import hostile_server

AWS_KEYS = {"AWS_ACCESS_KEY_ID": "AKIAHOSTILETEST00001", "AWS_SECRET_ACCESS_KEY": "not-a-real-key"}
DEADLINE_S = 6


def every_output(run: VerifyRun) -> str:
    files = [p for p in run.reports.rglob("*") if p.is_file()]
    return run.output + "".join(p.read_text(errors="replace") for p in files)


def ended_within(run: VerifyRun, ended_at: float, seconds: float) -> float:
    """Seconds from the run's start (configure) to the process's end."""
    assert run.verdict is not None
    started = datetime.fromisoformat(run.verdict["started_at"]).timestamp()
    return ended_at - started


@pytest.mark.parametrize(
    ("table", "check"),
    [
        ('api = {{ base_url = "{url}", health_path = "/silent" }}', "api.health"),
        ('api = {{ base_url = "{url}", health_path = "/trickle-body" }}', "api.health"),
        ('api = {{ base_url = "{url}", health_path = "/trickle-headers" }}', "api.health"),
        (
            'aws = {{ region = "eu-west-1", endpoint_url = "{url}" }}\nalarms = {{ prefix = "p-" }}',
            "alarms.none_firing",
        ),
    ],
    ids=["silent-api", "trickling-body", "trickling-headers", "trickling-aws"],
)
def test_the_process_ends_within_the_deadline_whatever_the_endpoint_does(
    tmp_path: Path, table: str, check: str
) -> None:
    with hostile_server() as url:
        body = (
            "[environments.hostile]\n"
            + table.format(url=url)
            + f"\nthresholds = {{ http_timeout_s = 60, aws_timeout_s = 60, run_deadline_s = {DEADLINE_S} }}\n"
        )
        run = run_with_environments(tmp_path, body, env=AWS_KEYS, env_name="hostile")
        ended = time.time()
    assert run.outcome == "error", run.output
    assert run.check(check)["status"] == "error"
    assert (
        "deadline" in run.check(check)["message"]
        or "no complete answer" in run.check(check)["message"]
    )
    assert ended_within(run, ended, DEADLINE_S) <= DEADLINE_S + 2, run.output


def test_a_decompression_bomb_is_error_and_memory_stays_bounded(tmp_path: Path) -> None:
    with hostile_server(with_bomb=True) as url:
        run = run_with_environments(
            tmp_path,
            f'[environments.hostile]\napi = {{ base_url = "{url}", health_path = "/bomb" }}\n',
            env_name="hostile",
        )
        # VmHWM is this process's own peak (ru_maxrss would include the forking parent's).
        script = (
            "import re, httpx\n"
            "from pathlib import Path\n"
            "from verify.probes.http import get\n"
            "from verify.probes.errors import ProbeError\n"
            "try:\n"
            f"    get(httpx.Client(), '{url}/bomb', 10)\n"
            "except ProbeError as error:\n"
            "    print(error)\n"
            "print(re.search(r'VmHWM:\\s+(\\d+)', Path('/proc/self/status').read_text())[1])\n"
        )
        probe = subprocess.run(
            [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
        )
    message = run.check("api.health")["message"]
    assert run.check("api.health")["status"] == "error"
    assert message.endswith(
        "/bomb: body inflates past 1024 KiB (Content-Encoding gzip, gzip): refused as a decompression bomb"
    ), message
    refused, peak_kib = probe.stdout.strip().splitlines()
    assert "decompression bomb" in refused
    # 2.5 KB on the wire, 1 GiB inflated: the probe never holds more than the 1 MiB cap.
    assert int(peak_kib) < 120 * 1024, f"peak RSS {int(peak_kib) // 1024} MiB"


def test_a_token_ending_in_a_newline_is_refused_never_echoed(tmp_path: Path) -> None:
    token = f"tok-{secrets.token_hex(16)}"
    with hostile_server() as url:
        run = run_with_environments(
            tmp_path,
            f'[environments.hostile]\napi = {{ base_url = "{url}", health_path = "/echo-401", '
            'auth_token = "env:VERIFY_TEST_TOKEN" }\n',
            "-vvv",
            "--tb=long",
            "-l",
            env={"VERIFY_TEST_TOKEN": token + "\n"},
            env_name="hostile",
        )
    assert run.check("api.health")["message"] == (
        "env:VERIFY_TEST_TOKEN: value holds a control character (a trailing newline?); "
        "not sent as a header"
    )
    assert token not in every_output(run)


def test_a_page_echoing_the_token_is_masked_in_every_output(tmp_path: Path) -> None:
    token = f"tok-{secrets.token_hex(16)}"
    with hostile_server() as url:
        run = run_with_environments(
            tmp_path,
            f'[environments.hostile]\napi = {{ base_url = "{url}", health_path = "/echo-401", '
            'auth_token = "env:VERIFY_TEST_TOKEN" }\n',
            "-vvv",
            "--tb=long",
            "-l",
            env={"VERIFY_TEST_TOKEN": token},
            env_name="hostile",
        )
    health = run.check("api.health")
    assert health["status"] == "failed"
    assert health["message"].endswith("answered HTTP 401; expected 200")
    assert any(
        "authorization: Bearer ***" in line.lower().replace("bearer", "Bearer")
        for line in health["evidence"]
    )
    assert token not in every_output(run)


def test_ten_thousand_target_groups_are_refused_in_one_line(tmp_path: Path) -> None:
    names = json.dumps([f"tg-{n}" for n in range(10_000)])
    run = run_with_environments(
        tmp_path,
        f"[environments.hostile]\nalb = {{ target_groups = {names} }}\n",
        env_name="hostile",
    )
    assert run.exit_code == 4
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert lines == [
        f"ERROR: {tmp_path / 'environments.toml'}: environments.hostile.alb.target_groups: "
        "List should have at most 200 items after validation, not 10000 (got list)"
    ]


def test_two_hundred_missing_target_groups_fail_after_one_listing(
    tmp_path: Path, sandbox_dir: Path
) -> None:
    names = json.dumps(["mobilytics-local-app-api", *(f"gone-{n}" for n in range(199))])
    body = (
        "[environments.local]\nsandbox = true\n"
        'aws = { region = "eu-west-1", endpoint_url = "sandbox:aws" }\n'
        f"alb = {{ target_groups = {names} }}\n"
    )
    run = run_with_environments(tmp_path, body, env={"VERIFY_SANDBOX_DIR": str(sandbox_dir)})
    check = run.check("alb.targets_healthy")
    assert check["status"] == "failed"
    assert check["message"].startswith("target group gone-0, gone-1, gone-2")
    assert run.verdict is not None and run.verdict["aws_calls"] <= 6
