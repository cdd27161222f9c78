"""ALB checks: every registered target healthy, spread over availability zones."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from verify.config import Thresholds
    from verify.fixtures.core import CheckRecord
    from verify.probes.aws.elb import TargetGroup

pytestmark = [pytest.mark.smoke, pytest.mark.synthetic]


@pytest.mark.settle
def test_targets_healthy(
    target_groups: list[TargetGroup], thresholds: Thresholds, check: CheckRecord
) -> None:
    """Every target of every configured group healthy; each group's targets in >= min_azs AZs."""
    states = {g.name: {t.id: t.state for t in g.targets} for g in target_groups}
    azs = {g.name: sorted({t.availability_zone or "?" for t in g.targets}) for g in target_groups}
    check.record(
        observed={"states": states, "azs": azs},
        threshold={"state": "healthy", "min_azs": thresholds.min_azs},
    )
    for group in target_groups:
        assert group.targets, f"target group {group.name} has 0 registered targets; expected >= 1"
        sick = [t for t in group.targets if t.state != "healthy"]
        assert not sick, (
            f"target group {group.name}: {len(sick)} of {len(group.targets)} targets not healthy ("
            + ", ".join(f"{t.id}:{t.port} {t.state} {t.reason or ''}".rstrip() for t in sick)
            + "); expected every target healthy"
        )
        zones = {t.availability_zone for t in group.targets if t.availability_zone}
        assert len(zones) >= thresholds.min_azs, (
            f"target group {group.name}: targets in {len(zones)} AZ(s) {sorted(zones)}; "
            f"expected >= {thresholds.min_azs}"
        )
