"""CloudWatch checks: none of the environment's alarms is firing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from verify.text import plural

if TYPE_CHECKING:
    from verify.config import EnvConfig
    from verify.fixtures.core import CheckRecord
    from verify.probes.aws.cloudwatch import Alarm

pytestmark = [pytest.mark.smoke, pytest.mark.synthetic]


def test_none_firing(alarms: list[Alarm], verify_env: EnvConfig, verify_check: CheckRecord) -> None:
    """No alarm with the prefix in ALARM; INSUFFICIENT_DATA is reported, never counted as watching."""
    table = verify_env.table("alarms")
    prefix, minimum = table.prefix, table.min_alarms
    firing = [a for a in alarms if a.state == "ALARM"]
    no_data = [a.name for a in alarms if a.state == "INSUFFICIENT_DATA"]
    watching = [a for a in alarms if a.state != "INSUFFICIENT_DATA"]
    verify_check.record(
        observed={"alarms": len(alarms), "in_alarm": [a.name for a in firing], "no_data": no_data},
        threshold={"in_alarm": [], "min_alarms_with_data": minimum},
        note=f"INSUFFICIENT_DATA: {', '.join(no_data)}" if no_data else None,
        evidence=[
            f"{a.name}: {a.state} since {a.updated_at.isoformat() if a.updated_at else '?'}: {a.reason}"
            for a in firing
        ],
    )
    assert len(watching) >= minimum, (
        f"{plural(len(alarms), 'alarm')} match prefix {prefix!r}, {len(watching)} with data "
        f"({len(no_data)} INSUFFICIENT_DATA); expected >= {minimum} with data (is the prefix right?)"
    )
    assert not firing, (
        f"{len(firing)} of {plural(len(alarms), 'alarm')} in ALARM: "
        + "; ".join(f"{a.name} ({a.reason})" for a in firing)
        + "; expected none"
    )
