"""Checks of the `billing` component."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.smoke]


def test_up(billing_status: Any, verify_check: Any) -> None:
    """The billing service reports ok."""
    verify_check.record(observed={"status": billing_status.status}, threshold={"status": "ok"})
    assert billing_status.status == "ok", (
        f"billing reports {billing_status.status!r}; expected 'ok'"
    )


def test_one_thread(billing_status: Any, verify_check: Any) -> None:
    """The probe ran on the thread its shared handle was built on (thread affinity)."""
    verify_check.record(
        observed={"same_thread": billing_status.thread == billing_status.handle_thread}
    )
    assert billing_status.thread == billing_status.handle_thread, "probe and handle on two threads"
