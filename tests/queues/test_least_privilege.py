"""The README's least-privilege Redis users really work: the probe reads with only them, the
canary writes only under its queue, and without CLIENT LIST the workers are still seen."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from verify.probes.bullmq_lua import ACL_CANARY, ACL_PROBE


@pytest.fixture
def acl_user(admin: Any, live: Any) -> Iterator[Callable[[str, list[str]], Any]]:
    """`acl_user(commands, key_patterns)` -> a RedisHandle logged in as a fresh ACL user."""
    from verify.probes.redisconn import RedisHandle, target_of

    made: list[tuple[str, Any]] = []

    def make(commands: str, keys: list[str]) -> Any:
        name, password = f"t-verify-{secrets.token_hex(4)}", secrets.token_urlsafe(24)
        admin.execute_command("ACL", "SETUSER", name, "on", ">" + password, "resetkeys", *keys,
                              "resetchannels", "-@all", *commands.split())  # fmt: skip
        target = target_of(f"rediss://127.0.0.1:{live.config.port}", ca_file=live.config.ca,
                           verify_tls=True, username=name)  # fmt: skip
        handle = RedisHandle(target, password)
        made.append((name, handle))
        return handle

    yield make
    for name, handle in made:
        handle.close()
        admin.execute_command("ACL", "DELUSER", name)


def observe(handle: Any, *queues: str) -> Any:
    from verify.probes import bullmq

    limits = {q: bullmq.QueueLimits(window_s=300, grace_s=60) for q in queues}
    return bullmq.observe(handle, "bull", limits, 100, 5.0)


def test_the_probe_reads_with_the_least_privilege_user(acl_user: Callable[..., Any]) -> None:
    from verify.probes import redisinfo

    handle = acl_user(ACL_PROBE, ["%R~bull:*"])
    obs = observe(handle, "emails", "notifications")
    assert obs.queues["emails"].workers.how == "CLIENT LIST"
    assert obs.queues["emails"].workers.count == 2
    assert redisinfo.observe(handle, 5.0).role == "master"
    (refused,) = handle.call([("SET", "bull:emails:x", "1")], 5.0)  # read-only
    assert "no permissions" in str(refused)


def test_without_client_list_workers_are_judged_by_stalled_check(
    acl_user: Callable[..., Any], fresh_queue: Callable[[str], str]
) -> None:
    handle = acl_user(ACL_PROBE.replace("+client|list", ""), ["%R~bull:*"])
    nobody = fresh_queue("nobody")
    deadline = time.monotonic() + 30  # a bound on waiting for a sweep, not an assertion on time
    while True:
        obs = observe(handle, "emails", nobody)
        emails = obs.queues["emails"].workers
        if emails.count >= 1 or time.monotonic() > deadline:
            break
        time.sleep(0.2)  # the key lapses for a moment between two sweeps
    assert emails.how.startswith("stalled-check (CLIENT LIST refused: "), emails.how
    assert "no permissions" in emails.how
    assert emails.count == 1 and obs.queues[nobody].workers.count == 0


def test_the_canary_writes_only_under_its_queue(acl_user: Callable[..., Any], live: Any) -> None:
    from verify.probes import canary

    handle = acl_user(f"{ACL_PROBE} {ACL_CANARY}", ["%R~bull:*", "%RW~bull:notifications:*"])
    result = canary.run(handle, "bull", "notifications", 10.0, lambda: 5.0)
    assert (result.outcome, result.cleaned) == ("completed", True)
    (refused,) = handle.call([("LPUSH", "bull:emails:wait", "x")], 5.0)
    assert "no permissions" in str(refused)
