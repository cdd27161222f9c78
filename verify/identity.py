"""Check ids (`ecs.service_stable[app-api]`) and collection-time skips with a reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from verify.run import CHECK_ID

if TYPE_CHECKING:
    from verify.run import Run

CHECKS_PACKAGE = "verify.checks.test_"


def check_id(item: pytest.Item) -> str | None:
    """`<component>.<check>[<param>]` for items of verify's checks package, else None."""
    module = getattr(getattr(item, "module", None), "__name__", "")
    if not module.startswith(CHECKS_PACKAGE):
        return None
    component = module.removeprefix(CHECKS_PACKAGE)
    name = getattr(item, "originalname", item.name).removeprefix("test_")
    callspec = getattr(item, "callspec", None)
    return f"{component}.{name}" + (f"[{callspec.id}]" if callspec else "")


def mark_check(item: pytest.Item, run: Run) -> None:
    """Name the check and skip it, with the reason, when the environment cannot run it."""
    ident = check_id(item)
    if ident is None:
        return
    item.stash[CHECK_ID] = ident
    item.user_properties.append(("verify_check", ident))
    component = ident.split(".", 1)[0]
    reason = None
    if not run.env.configures(component):
        reason = f"{component} is not configured for env {run.env.name}"
    elif item.get_closest_marker("requires_release") and not run.release:
        reason = "no --release given: nothing to compare against"
    elif item.get_closest_marker("writes") and not run.env.spec.allow_writes:
        reason = f"env {run.env.name} does not allow checks that write (allow_writes)"
    if reason:
        item.add_marker(pytest.mark.skip(reason=reason))
