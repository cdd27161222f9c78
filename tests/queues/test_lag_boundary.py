"""queues.lag on both sides of its threshold, through the packaged checks and a real Redis.

The jobs' creation times are set on Redis's clock: one well inside the threshold, one a second
past it. Ages only grow while the run starts, so the second one fails whatever the machine's
speed; the first has a wide margin."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import VerifyRun
from tests.queues.conftest import CHECKS, node_produce

THRESHOLD_S = 600


def environments(live: Any, queues: list[str]) -> str:
    names = ", ".join(f'"{q}"' for q in queues)
    return f"""
[environments.local]
sandbox = true
aws = {{ region = "eu-west-1", endpoint_url = "sandbox:aws", account_id = "123456789012" }}
thresholds = {{ queue_oldest_wait_s = {THRESHOLD_S}, queue_min_workers = 0 }}

[environments.local.redis]
url = "sandbox:redis"
auth = "secretsmanager:/mobilytics/local/app-api/redis-auth"
username = "app-api"
tls_ca_file = "sandbox:redis-ca"

[environments.local.queues]
names = [{names}]
"""


def test_younger_than_the_threshold_passes_a_second_older_fails(
    live: Any,
    admin: Any,
    fresh_queue: Callable[[str], str],
    run_verify: Callable[..., VerifyRun],
    tmp_path: Path,
) -> None:
    young, old = fresh_queue("young"), fresh_queue("old")
    seconds, micros = admin.time()
    now = int(seconds) * 1000 + int(micros) // 1000
    node_produce(
        live,
        young,
        [{"op": "add", "opts": {"timestamp": now - (THRESHOLD_S - 300) * 1000}}],
        tmp_path,
    )
    node_produce(
        live, old, [{"op": "add", "opts": {"timestamp": now - (THRESHOLD_S + 1) * 1000}}], tmp_path
    )
    envfile = tmp_path / "environments.toml"
    envfile.write_text(environments(live, [young, old]))
    run = run_verify(
        "--env=local",
        f"--environments={envfile}",
        "-m",
        "smoke",
        "-k",
        "lag",
        str(CHECKS / "test_queues.py"),
    )
    assert run.ids("passed") == {f"queues.lag[{young}]"}, run.output
    assert run.ids("failed") == {f"queues.lag[{old}]"}, run.output
    message = run.check(f"queues.lag[{old}]")["message"]
    assert f"expected <= {THRESHOLD_S} s (queue_oldest_wait_s)" in message, message
    observed = run.check(f"queues.lag[{old}]")["observed"]["oldest_wait_s"]
    assert observed >= THRESHOLD_S + 1
