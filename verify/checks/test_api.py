"""API checks: the front door answers, healthy, fast, on the release that must be live."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from verify.config import EnvConfig
    from verify.fixtures.core import CheckRecord
    from verify.probes.http import HttpObservation

pytestmark = [pytest.mark.smoke, pytest.mark.synthetic]


def _field(observation: HttpObservation, name: str) -> Any:
    return observation.json.get(name) if isinstance(observation.json, dict) else None


def test_health(
    api_health: HttpObservation,
    verify_env: EnvConfig,
    verify_thresholds: Any,
    verify_check: CheckRecord,
) -> None:
    """GET /health: 200, the body says healthy, within the latency budget."""
    obs, budget = api_health, verify_thresholds.api_latency_ms
    healthy_values = verify_env.table("api").healthy_values
    body_status = _field(obs, "status")
    verify_check.record(
        observed={
            "status": obs.status,
            "body_status": body_status,
            "latency_ms": round(obs.latency_ms),
        },
        threshold={"status": 200, "body_status": healthy_values, "latency_ms": budget},
        evidence=obs.evidence(),
    )
    assert obs.unreachable is None, f"{obs.url}: {obs.unreachable}; expected HTTP 200"
    assert obs.status == 200, f"{obs.url} answered HTTP {obs.status}; expected 200"
    assert str(body_status).lower() in healthy_values, (
        f"{obs.url} body status {body_status!r}; expected one of {healthy_values}"
    )
    assert obs.latency_ms <= budget, (
        f"{obs.url} answered in {obs.latency_ms:.0f} ms; expected <= {budget:.0f} ms (api_latency_ms)"
    )


@pytest.mark.requires_release
@pytest.mark.settle  # mid-rollout the previous release's tasks still answer: wait for the new
def test_version(
    api_version: HttpObservation,
    verify_env: EnvConfig,
    verify_release: str,
    verify_check: CheckRecord,
) -> None:
    """GET /version reports the release that must be live."""
    obs = api_version
    field = verify_env.table("api").version_field
    live = _field(obs, field) if obs.json is not None else obs.body.strip()[:80] or None
    verify_check.record(
        observed={"status": obs.status, field: live},
        threshold={field: verify_release},
        evidence=obs.evidence(),
    )
    assert obs.unreachable is None, f"{obs.url}: {obs.unreachable}; expected HTTP 200"
    assert obs.status == 200, f"{obs.url} answered HTTP {obs.status}; expected 200"
    assert live == verify_release, (
        f"{obs.url} reports {field} {live!r}; expected {verify_release!r}"
    )
