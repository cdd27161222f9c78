"""The queue tests' view of the session sandbox: its Redis part, an admin hand, fresh queues."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import VerifyRun

CHECKS = Path(__file__).resolve().parents[2] / "verify" / "checks"
QUEUE_FILES = (str(CHECKS / "test_queues.py"), str(CHECKS / "test_redis.py"))


@pytest.fixture(scope="session")
def live(sandbox_state: Any) -> Any:
    """The session sandbox's Redis part (config, clients, workers)."""
    from verify.sandbox.queues.live import Live

    return Live(sandbox_state.parts["redis"])


@pytest.fixture
def admin(live: Any) -> Iterator[Any]:
    client = live.admin()
    yield client
    client.close()


@pytest.fixture
def fresh_queue(admin: Any) -> Iterator[Callable[[str], str]]:
    """`fresh_queue("lag")` -> a queue name of this test alone; its keys are removed after."""
    made: list[str] = []

    def make(label: str) -> str:
        name = f"t-{label}-{uuid.uuid4().hex[:8]}"
        made.append(name)
        return name

    yield make
    for name in made:
        keys = list(admin.scan_iter(f"bull:{name}:*", count=1000))
        if keys:
            admin.delete(*keys)


@pytest.fixture
def handle(live: Any) -> Iterator[Any]:
    """The probe's own connection, logged in as app-api like the local environment."""
    from verify.probes.redisconn import RedisHandle, target_of

    config = live.config
    target = target_of(
        f"rediss://127.0.0.1:{config.port}", ca_file=config.ca, verify_tls=True, username="app-api"
    )
    opened = RedisHandle(target, live.app_options["password"])
    yield opened
    opened.close()


@pytest.fixture
def queue_run(run_verify: Callable[..., VerifyRun], sandbox_state: Any) -> Callable[..., VerifyRun]:
    """`pytest --env=local -m "smoke or deep"` over the redis and queues checks (and `extra` files)."""

    def run(*extra: str, args: tuple[str, ...] = ()) -> VerifyRun:
        return run_verify(
            "--env=local",
            "-m",
            "smoke or deep",
            f"--release={sandbox_state.release}",
            *args,
            *QUEUE_FILES,
            *extra,
        )

    return run


def node_produce(live: Any, queue: str, steps: list[dict[str, Any]], tmp_path: Path) -> list[str]:
    """Run tests/queues/support/produce.cjs with the sandbox's Node bullmq; the job ids it added."""
    script = live.node_dir / f"produce-{uuid.uuid4().hex[:8]}.cjs"
    script.write_text((Path(__file__).parent / "support" / "produce.cjs").read_text())
    options = live.app_options
    payload = {
        "host": options["host"],
        "port": options["port"],
        "username": options["username"],
        "password": options["password"],
        "ca": options["ssl_ca_certs"],
        "queue": queue,
        "steps": steps,
    }
    try:
        done = subprocess.run(
            ["node", str(script)],
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            timeout=60,
            cwd=live.node_dir,
            check=False,
        )
    finally:
        script.unlink(missing_ok=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return list(json.loads(done.stdout.strip().splitlines()[-1]))
