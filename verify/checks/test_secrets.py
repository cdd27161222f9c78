"""Secrets checks: every secret the services need exists with a value (described, never read)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from verify.fixtures.core import CheckRecord
    from verify.probes.aws.secrets import SecretPresence

pytestmark = [pytest.mark.smoke, pytest.mark.synthetic]


def test_present(secret_presence: list[SecretPresence], verify_check: CheckRecord) -> None:
    """Every required secret exists, has a current value and is not scheduled for deletion."""
    missing = [s for s in secret_presence if not s.present]
    verify_check.record(
        observed={s.name: s.detail for s in secret_presence},
        threshold="every required secret exists with an AWSCURRENT value",
    )
    assert not missing, (
        f"{len(missing)} of {len(secret_presence)} required secrets missing: "
        + ", ".join(f"{s.name} ({s.store}: {s.detail})" for s in missing)
        + "; expected all to exist"
    )
