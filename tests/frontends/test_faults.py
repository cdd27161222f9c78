"""Every frontend fault turns its check FAIL (observed vs expected), and healing it restores PASS."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import VerifyRun

# fault -> (the check that must catch it, fragments its message must contain)
CAUGHT_BY = {
    "ssr-500": ("frontends.route[support:/tickets]", ("got HTTP 500", "expected 200")),
    "ssr-console-error": (
        "frontends.route[support:/dashboard]",
        ("1 console error (widgets: GET /api/widgets failed (HTTP 500))", "expected none"),
    ),
    "ssr-missing-content": (
        "frontends.ssr_content[support:/tickets]",
        ("first HTML lacks 'Open tickets: 3'", "expected it server-rendered"),
    ),
    "asset-missing": (
        "frontends.assets_resolve[support]",
        ("referenced by the edge HTML do not resolve", "-> 404", "expected 200"),
    ),
    "build-id-mismatch": (
        "frontends.build_id[support]",
        (
            "edge build id '2026.11.25-3'",
            "the origin serves ['2026.11.26-1']",
            "expected the origin's",
        ),
    ),
    "tls-expiring": (
        "frontends.tls[support]",
        ("certificate expires in 3 days", "expected >= 14 days (cert_min_days)"),
    ),
    "https-redirect-missing": (
        "frontends.https_redirect[support]",
        ("answered HTTP 200", "expected a redirect"),
    ),
    "cloudfront-in-progress": (
        "frontends.distribution_deployed[support]",
        ("Status InProgress", "expected Deployed"),
    ),
    "invalidation-pending": (
        "frontends.invalidation_complete[support]",
        ("is InProgress", "expected Completed"),
    ),
}


def test_every_frontend_fault_is_covered_here() -> None:
    from verify.sandbox import faults

    owned = {f.name: f.check for f in faults() if f.check.startswith("frontends.")}
    assert owned == {name: check for name, (check, _) in CAUGHT_BY.items()}


@pytest.mark.parametrize("fault", sorted(CAUGHT_BY))
def test_fault_fails_its_check_and_heal_restores_pass(
    fault: str,
    broken: Callable[[str], None],
    frontend_run: Callable[..., VerifyRun],
    sandbox_dir: Path,
) -> None:
    from verify import sandbox
    from verify.sandbox.catalog import BY_NAME

    check_id, fragments = CAUGHT_BY[fault]
    broken(fault)
    run = frontend_run("support")  # every check of the surface the fault acts on
    assert run.outcome == "fail", run.output
    assert run.exit_code == 1
    assert run.ids("failed") == {check_id, *BY_NAME[fault].also}, run.output
    failed = run.check(check_id)
    for fragment in fragments:
        assert fragment in failed["message"], failed["message"]
    assert failed["observed"] is not None and failed["threshold"] is not None
    assert "Traceback" not in run.output

    sandbox.heal(sandbox_dir, fault)
    healed = frontend_run("support")
    assert healed.outcome == "pass", healed.output
    assert healed.exit_code == 0


def test_normal_state_passes_every_frontend_check(
    frontend_run: Callable[..., VerifyRun], sandbox_state: Any
) -> None:
    run = frontend_run()
    assert run.outcome == "pass", run.output
    ids = run.ids("passed")
    assert {"frontends.security_headers[support]", "frontends.route[portal:/account]"} <= ids
    assert len(ids) == 24, sorted(ids)
    # A clean run keeps no browser artifacts.
    assert not (run.reports / "artifacts").exists()
