"""ALB checks: every configured target group exists, its targets healthy and spread over AZs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from verify.text import plural

if TYPE_CHECKING:
    from verify.fixtures.core import CheckRecord
    from verify.probes.aws.elb import TargetGroupsObservation

pytestmark = [pytest.mark.smoke, pytest.mark.synthetic]


@pytest.mark.settle
def test_targets_healthy(
    alb_target_groups: TargetGroupsObservation, verify_thresholds: Any, verify_check: CheckRecord
) -> None:
    """Every configured group exists; its targets healthy, in >= min_azs AZs."""
    groups, min_azs = alb_target_groups.groups, verify_thresholds.min_azs
    states = {g.name: {f"{t.id}:{t.port}": t.state for t in g.targets} for g in groups}
    azs = {g.name: sorted({t.availability_zone or "?" for t in g.targets}) for g in groups}
    verify_check.record(
        observed={"states": states, "azs": azs, "missing": alb_target_groups.missing},
        threshold={"state": "healthy", "min_azs": min_azs, "missing": []},
        evidence=[
            f"{g.name} {t.id}:{t.port} {t.state} {t.reason or ''} {t.description or ''}".rstrip()
            for g in groups
            for t in g.targets
            if t.state != "healthy"
        ],
    )
    missing = alb_target_groups.missing
    named = ", ".join(missing[:10]) + (
        f" (and {len(missing) - 10} more)" if len(missing) > 10 else ""
    )
    assert not missing, (
        f"target group {named} not found (ELB answered TargetGroupNotFound); "
        "expected every configured group to exist"
    )
    for group in groups:
        assert group.targets, f"target group {group.name} has 0 registered targets; expected >= 1"
        sick = [t for t in group.targets if t.state != "healthy"]
        assert not sick, (
            f"target group {group.name}: {len(sick)} of {plural(len(group.targets), 'target')} not "
            "healthy ("
            + ", ".join(f"{t.id}:{t.port} {t.state} {t.reason or ''}".rstrip() for t in sick)
            + "); expected every target healthy"
        )
        zones = sorted({t.availability_zone for t in group.targets if t.availability_zone})
        assert len(zones) >= min_azs, (
            f"target group {group.name}: targets in {plural(len(zones), 'AZ')} {zones}; "
            f"expected >= {min_azs}"
        )
