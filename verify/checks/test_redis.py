"""Redis checks: reachable over TLS with the AUTH from the secret, a primary, memory in bounds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from verify.fixtures.core import CheckRecord
    from verify.probes.redisinfo import RedisObservation

pytestmark = [pytest.mark.synthetic]  # redis.reachable gates (smoke); redis.memory is deep


@pytest.mark.smoke
def test_reachable(redis_server: RedisObservation, verify_check: CheckRecord) -> None:
    """Redis answers over its URL (TLS when rediss://) with the configured AUTH, as a primary."""
    obs = redis_server
    verify_check.record(
        observed={
            "unreachable": obs.unreachable,
            "role": obs.role,
            "tls": obs.tls,
            "latency_ms": round(obs.latency_ms),
        },
        threshold={"reachable": True, "role": "master"},
        evidence=obs.evidence(),
    )
    assert obs.unreachable is None, (
        f"redis {obs.url} as {obs.user or 'default'}: {obs.unreachable}; expected AUTH accepted"
    )
    assert obs.role == "master", (
        f"redis {obs.url} is a {obs.role}; expected the primary "
        "(BullMQ writes fail with READONLY on a replica)"
    )


def _reachable(obs: RedisObservation) -> None:
    from verify.probes.errors import ProbeError

    if obs.unreachable is not None:  # redis.reachable FAILs on it; here there is nothing to judge
        raise ProbeError(obs.url, f"cannot read memory: {obs.unreachable}")


@pytest.mark.deep
def test_memory(
    redis_server: RedisObservation, verify_thresholds: Any, verify_check: CheckRecord
) -> None:
    """used_memory <= redis_memory_max_ratio of maxmemory; policy noeviction; no key evicted."""
    obs = redis_server
    _reachable(obs)
    ratio, limit = obs.memory_ratio, verify_thresholds.redis_memory_max_ratio
    max_evicted = verify_thresholds.redis_max_evicted_keys
    verify_check.record(
        observed={"used_memory": obs.used_memory, "maxmemory": obs.maxmemory,
                  "ratio": None if ratio is None else round(ratio, 3),
                  "maxmemory_policy": obs.maxmemory_policy, "evicted_keys": obs.evicted_keys},
        threshold={"ratio": limit, "maxmemory_policy": "noeviction", "evicted_keys": max_evicted},
        evidence=obs.evidence(),
    )  # fmt: skip
    assert ratio is not None, (
        f"redis {obs.url}: no maxmemory and no system memory reported; expected a maxmemory"
    )
    assert ratio <= limit, (
        f"redis {obs.url}: used_memory {obs.used_memory} is {ratio:.0%} of "
        f"{'maxmemory' if obs.maxmemory else 'system memory'} {obs.memory_limit}; "
        f"expected <= {limit:.0%} (redis_memory_max_ratio)"
    )
    assert obs.maxmemory_policy == "noeviction", (
        f"redis {obs.url}: maxmemory-policy {obs.maxmemory_policy}; "
        "expected noeviction (BullMQ loses evicted jobs)"
    )
    assert obs.evicted_keys <= max_evicted, (
        f"redis {obs.url}: {obs.evicted_keys} keys evicted; "
        f"expected <= {max_evicted} (redis_max_evicted_keys)"
    )
