"""`--settle`: re-observe and re-assert an "eventually" check until it passes or time is up."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from verify.fixtures.views import derive
from verify.run import CHECK_ID, RECORD
from verify.text import one_line

if TYPE_CHECKING:
    import pytest

    from verify.run import Run


def call_settling(item: pytest.Function, run: Run) -> bool:
    """Run `item` polling at most every `settle_poll_s`; False when settling does not apply."""
    if run.settle_s <= 0 or run.scheduler is None or not item.get_closest_marker("settle"):
        return False
    argnames = item._fixtureinfo.argnames
    kwargs = {name: item.funcargs[name] for name in argnames}
    views = {
        name: run.registry.views[name]
        for name in argnames
        if name in run.registry.views and run.registry.views[name][1].probe is not None
    }
    poll_s = run.env.thresholds.settle_poll_s
    attempts = 0
    first_failure: str | None = None
    try:
        while True:
            attempts += 1
            try:
                item.obj(**kwargs)
                return True
            except AssertionError as failure:
                remaining = run.settle_left
                if remaining <= 0 or not views:
                    raise
                first_failure = first_failure or one_line(str(failure).split("\nassert ")[0], 300)
                keys = {view.probe for _, view in views.values() if view.probe is not None}
                # Poll each probe at most every poll_s, but an observation already older than
                # that (taken before this check's turn) is re-taken at once: after a deploy
                # converges, every later settling check would otherwise pay a whole poll.
                youngest = min(run.scheduler.age(str(key)) for key in keys)
                wait_s = min(max(poll_s - youngest, 0.0), remaining)
                progress(
                    item,
                    f"{item.stash[CHECK_ID]} still failing ({first_line(failure)}); "
                    f"re-observing in {wait_s:.1f} s, {remaining:.0f} s of settle left",
                )
                time.sleep(wait_s)
                fresh = {key: run.scheduler.refresh(key) for key in keys}
                for name, (component, view) in views.items():
                    kwargs[name] = derive(view, component, fresh[str(view.probe)], run, item)
    finally:
        record = item.stash.get(RECORD, {})
        record["attempts"] = attempts
        if first_failure and attempts > 1:
            record["first_failure"] = first_failure
        item.stash[RECORD] = record


def first_line(failure: AssertionError) -> str:
    return one_line(str(failure).split("\nassert ")[0], 120)


def progress(item: Any, line: str) -> None:
    """One line on the terminal while a check waits (not under xdist: workers have none)."""
    config = item.config
    reporter = config.pluginmanager.getplugin("terminalreporter")
    capture = config.pluginmanager.getplugin("capturemanager")
    if reporter is None or capture is None:
        return
    from verify.redact import REDACT

    with capture.global_and_fixture_disabled():
        reporter.ensure_newline()
        reporter.write_line(f"verify settle: {REDACT(line)}", yellow=True)
