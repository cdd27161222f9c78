"""Registration of the `billing` component: its table, one probe, one view, its checks."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from verify.config import Table
from verify.registry import Component, Probe, View


class BillingConfig(Table):
    status_file: str = Field(min_length=1)  # stands in for the service's status endpoint


@dataclass(frozen=True)
class BillingStatus:
    status: str
    thread: int
    handle_thread: int


def observe(ctx: Any) -> BillingStatus:
    table: BillingConfig = ctx.table
    handle = ctx.shared("billing.handle", threading.get_ident, lambda _: None)
    return BillingStatus(Path(table.status_file).read_text().strip(), threading.get_ident(), handle)


COMPONENT = Component(
    name="billing",
    table=BillingConfig,
    checks="team_checks.test_billing",
    probes=(Probe("billing.status", observe, affinity="billing"),),
    views=(View("billing_status", "billing.status"),),
    summary="the billing service says it is up",
)
