"""API checks: the front door answers, healthy, fast, on the right release."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from verify.config import EnvConfig, Thresholds
    from verify.fixtures.core import CheckRecord
    from verify.probes.http import HttpObservation

pytestmark = [pytest.mark.smoke, pytest.mark.synthetic]


def _field(observation: HttpObservation, name: str) -> Any:
    return observation.json.get(name) if isinstance(observation.json, dict) else None


def test_health(
    api_health: HttpObservation, verify_env: EnvConfig, thresholds: Thresholds, check: CheckRecord
) -> None:
    """GET /health: 200, the body says healthy, within the latency budget."""
    obs, budget = api_health, thresholds.api_latency_ms
    healthy_values = verify_env.spec.api.healthy_values if verify_env.spec.api else []
    body_status = _field(obs, "status")
    check.record(
        observed={
            "status": obs.status,
            "body_status": body_status,
            "latency_ms": round(obs.latency_ms),
        },
        threshold={"status": 200, "body_status": healthy_values, "latency_ms": budget},
    )
    assert obs.unreachable is None, f"{obs.url}: {obs.unreachable}; expected HTTP 200"
    assert obs.status == 200, (
        f"{obs.url} answered HTTP {obs.status}; expected 200 (body {obs.body[:120]!r})"
    )
    assert str(body_status).lower() in healthy_values, (
        f"{obs.url} body status {body_status!r}; expected one of {healthy_values}"
    )
    assert obs.latency_ms <= budget, (
        f"{obs.url} answered in {obs.latency_ms:.0f} ms; expected <= {budget:.0f} ms (api_latency_ms)"
    )


@pytest.mark.requires_release
def test_version(
    api_version: HttpObservation, verify_env: EnvConfig, release: str, check: CheckRecord
) -> None:
    """GET /version reports the release that must be live."""
    obs = api_version
    field = verify_env.spec.api.version_field if verify_env.spec.api else "release"
    live = _field(obs, field) if obs.json is not None else obs.body.strip() or None
    check.record(observed={"status": obs.status, field: live}, threshold={field: release})
    assert obs.unreachable is None, f"{obs.url}: {obs.unreachable}; expected HTTP 200"
    assert obs.status == 200, f"{obs.url} answered HTTP {obs.status}; expected 200"
    assert live == release, f"{obs.url} reports {field} {live!r}; expected {release!r}"
