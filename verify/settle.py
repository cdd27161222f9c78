"""`--settle`: re-observe and re-assert an "eventually" check until it passes or time is up."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from verify.fixtures.views import VIEWS, params_of

if TYPE_CHECKING:
    import pytest

    from verify.run import Run


def call_settling(item: pytest.Function, run: Run) -> bool:
    """Run `item` polling at most every `settle_poll_s`; False when settling does not apply."""
    if run.settle_s <= 0 or run.observations is None or not item.get_closest_marker("settle"):
        return False
    argnames = item._fixtureinfo.argnames
    kwargs = {name: item.funcargs[name] for name in argnames}
    views = {name: VIEWS[name] for name in argnames if name in VIEWS}
    poll_s = run.env.thresholds.settle_poll_s
    attempts = 0
    try:
        while True:
            attempts += 1
            try:
                item.obj(**kwargs)
                return True
            except AssertionError:
                remaining = run.settle_deadline - time.monotonic()
                if remaining <= 0 or not views:
                    raise
                time.sleep(min(poll_s, remaining))
                fresh = {
                    key: run.observations.refresh(key)
                    for key in {v.probe_key for v in views.values()}
                }
                for name, view in views.items():
                    kwargs[name] = view.derive(fresh[view.probe_key], params_of(item))
    finally:
        item.user_properties.append(("verify_attempts", attempts))
