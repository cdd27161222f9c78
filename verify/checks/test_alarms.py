"""CloudWatch checks: none of the environment's alarms is firing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from verify.config import EnvConfig
    from verify.fixtures.core import CheckRecord
    from verify.probes.aws.cloudwatch import Alarm

pytestmark = [pytest.mark.smoke, pytest.mark.synthetic]


def test_none_firing(alarms: list[Alarm], verify_env: EnvConfig, check: CheckRecord) -> None:
    """No alarm with the environment's prefix in ALARM; INSUFFICIENT_DATA is reported, not failed."""
    assert verify_env.spec.alarms is not None
    prefix, minimum = verify_env.spec.alarms.prefix, verify_env.spec.alarms.min_alarms
    firing = [a for a in alarms if a.state == "ALARM"]
    no_data = [a.name for a in alarms if a.state == "INSUFFICIENT_DATA"]
    check.record(
        observed={"alarms": len(alarms), "in_alarm": [a.name for a in firing], "no_data": no_data},
        threshold={"in_alarm": [], "min_alarms": minimum},
        note=f"INSUFFICIENT_DATA: {', '.join(no_data)}" if no_data else None,
    )
    assert len(alarms) >= minimum, (
        f"{len(alarms)} alarms match prefix {prefix!r}; expected >= {minimum} (is the prefix right?)"
    )
    assert not firing, (
        f"{len(firing)} of {len(alarms)} alarms in ALARM: "
        + "; ".join(f"{a.name} ({a.reason})" for a in firing)
        + "; expected none"
    )
