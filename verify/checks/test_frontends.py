"""Frontend checks per surface: CloudFront deployed, routes clean in Chromium, SSR, one build id
(no stale edge), assets resolve, TLS, redirect, security headers."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from verify.text import plural

if TYPE_CHECKING:
    from verify.components.frontends import RouteConfig, SurfaceConfig
    from verify.fixtures.core import CheckRecord
    from verify.probes.aws.cloudfront import Distribution
    from verify.probes.browser import RouteRun
    from verify.probes.frontend_http import Page, Redirect, SurfaceAssets, SurfacePages
    from verify.probes.tls import TlsObservation
    from verify.run import Run

# Smoke (gating) and synthetic, but for the deep security-headers check.
smoke = pytest.mark.smoke
synthetic = pytest.mark.synthetic
MIN_TLS = "TLSv1.2"
REDIRECTS = (301, 302, 307, 308)


@smoke
@synthetic
@pytest.mark.settle
def test_distribution_deployed(
    frontend_distribution: Distribution,
    frontend_cdn_config: SurfaceConfig,
    verify_check: CheckRecord,
) -> None:
    """The surface's CloudFront distribution exists, is Enabled and Deployed."""
    d = frontend_distribution
    verify_check.record(
        observed={"id": d.id, "status": d.status, "enabled": d.enabled, "missing": d.missing},
        threshold={"status": "Deployed", "enabled": True},
        evidence=[f"distribution {d.id} ({d.domain}): Status {d.status}, Enabled {d.enabled}"],
    )
    assert d.missing is None, f"CloudFront {d.missing}; expected distribution {d.id} Deployed"
    assert d.enabled, f"CloudFront distribution {d.id} is disabled; expected Enabled"
    assert (d.status or "").lower() == "deployed", (
        f"CloudFront distribution {d.id} Status {d.status}; expected Deployed"
    )


@smoke
@synthetic
@pytest.mark.settle
def test_invalidation_complete(
    frontend_distribution: Distribution, verify_check: CheckRecord
) -> None:
    """The distribution's latest invalidation is Completed (a deploy's `/*` has gone out)."""
    d = frontend_distribution
    latest = d.latest_invalidation
    verify_check.record(
        observed={
            "latest": latest.id if latest else None,
            "status": latest.status if latest else None,
            "created": latest.created if latest else None,
        },
        threshold={"status": "Completed"},
        note=None if latest else "no invalidation listed: nothing pending",
        evidence=[f"distribution {d.id}: {plural(d.invalidations_seen, 'invalidation')} listed"],
    )
    assert d.missing is None, f"CloudFront {d.missing}; expected its invalidations Completed"
    if latest is None:
        return
    # AWS says Completed, moto COMPLETED: the word, not its case.
    assert latest.status.lower() == "completed", (
        f"distribution {d.id}: latest invalidation {latest.id} is {latest.status}; expected Completed"
    )


@smoke
@synthetic
def test_route(
    frontend_route_run: RouteRun,
    frontend_route_config: RouteConfig,
    verify_thresholds: Any,
    verify_run: Run,
    verify_check: CheckRecord,
    pytestconfig: pytest.Config,
) -> None:
    """In Chromium: HTTP 200, no console or page errors, no failed requests, within the budget."""
    from verify.artifacts import keep
    from verify.probes.browser import problems

    run = frontend_route_run
    budget = frontend_route_config.budget_ms or verify_thresholds.frontend_route_ms
    evidence = run.evidence()
    evidence += keep(run.artifacts, verify_run.reports_dir, verify_check.id, pytestconfig)
    verify_check.record(
        observed={
            "status": run.status or run.error,
            "console_errors": len(run.console_errors),
            "page_errors": len(run.page_errors),
            "failed_requests": len(run.failed_requests),
            "ttfb_ms": _ms(run.ttfb_ms),
            "dom_content_loaded_ms": _ms(run.dom_content_loaded_ms),
            "load_ms": _ms(run.load_ms),
        },
        threshold={
            "status": 200,
            "console_errors": 0,
            "page_errors": 0,
            "failed_requests": 0,
            "load_ms": budget,
        },
        evidence=evidence,
    )
    where = f"{run.surface} {run.path}"
    assert run.error is None, (
        f"{where}: Chromium could not load {run.url} ({run.error}); expected HTTP 200"
    )
    assert run.status == 200, f"{where}: Chromium got HTTP {run.status} for {run.url}; expected 200"
    assert not run.page_errors, (
        f"{where}: {plural(len(run.page_errors), 'page error')} ({run.page_errors[0]}); expected none"
    )
    assert not run.console_errors, (
        f"{where}: {plural(len(run.console_errors), 'console error')} ({run.console_errors[0]}); "
        "expected none"
    )
    assert not run.failed_requests, (
        f"{where}: {plural(len(run.failed_requests), 'failed request')} ({run.failed_requests[0]}); "
        "expected none"
    )
    found = problems(run, budget)
    assert not found, (
        f"{where}: {'; '.join(found)}; expected load <= {budget:.0f} ms (frontend_route_ms)"
    )


@smoke
@synthetic
def test_ssr_content(frontend_ssr_page: Page, verify_check: CheckRecord) -> None:
    """The route's server-rendered marker is in the first HTML (before any JavaScript runs)."""
    page = frontend_ssr_page
    verify_check.record(
        observed={"status": page.status, "marker_found": page.marker_found},
        threshold={"status": 200, "marker": page.marker},
        evidence=[page.line(), f"first HTML: {page.excerpt[:200]}"],
    )
    assert page.unreachable is None, (
        f"{page.url}: {page.unreachable}; expected HTML with {page.marker!r}"
    )
    assert page.status == 200, (
        f"{page.url} answered HTTP {page.status}; expected 200 with {page.marker!r} server-rendered"
    )
    assert page.marker_found, (
        f"{page.url}: first HTML lacks {page.marker!r} (rendered only in the browser?); "
        "expected it server-rendered"
    )


@smoke
@synthetic
def test_build_id(
    frontend_pages: SurfacePages,
    frontend_surface_config: SurfaceConfig,
    verify_check: CheckRecord,
    request: pytest.FixtureRequest,
) -> None:
    """Every HTML route at the edge carries one build id: the origin's (when configured) and the
    release (when build_id = "release")."""
    pages, config = frontend_pages, frontend_surface_config
    edge = {p.path: p.build_id for p in pages.edge}
    origin = {p.path: p.build_id for p in pages.origin}
    release = request.getfixturevalue("verify_release") if config.build_id == "release" else None
    verify_check.record(
        observed={"edge": edge, "origin": origin or None},
        threshold={"one_build_id": True, "origin": "same" if origin else None, "release": release},
        evidence=[p.line() for p in (*pages.edge, *pages.origin)],
    )
    unreachable = [p for p in pages.edge if p.unreachable]
    assert not unreachable, f"{unreachable[0].url}: {unreachable[0].unreachable}; expected HTML"
    missing = [path for path, value in edge.items() if value is None]
    assert not missing, (
        f"{pages.surface}: no Next.js build id in the edge HTML of {', '.join(missing)}; "
        "expected __NEXT_DATA__ or flight data"
    )
    ids = sorted(set(edge.values()), key=str)
    assert len(ids) == 1, f"{pages.surface}: the edge serves build ids {edge}; expected one"
    if origin:
        stale = {path: value for path, value in edge.items() if origin.get(path) != value}
        assert not stale, (
            f"{pages.surface}: edge build id {ids[0]!r} on {', '.join(stale)} but the origin serves "
            f"{sorted(set(origin.values()), key=str)}; expected the origin's (stale edge: invalidate)"
        )
    if release is not None:
        assert ids[0] == release, (
            f"{pages.surface}: the edge serves build id {ids[0]!r}; expected the release {release!r}"
        )


@smoke
@synthetic
def test_assets_resolve(
    frontend_assets: SurfaceAssets, frontend_pages: SurfacePages, verify_check: CheckRecord
) -> None:
    """Every /_next/static asset the edge HTML references answers 200 at the edge, cached as
    immutable; the HTML itself is never cached as immutable."""
    assets = frontend_assets
    broken = [a for a in assets.assets if a.status != 200]
    mutable = [
        a for a in assets.assets if a.status == 200 and "immutable" not in (a.cache_control or "")
    ]
    frozen_html = [
        p.path for p in frontend_pages.edge if "immutable" in p.headers.get("cache-control", "")
    ]
    verify_check.record(
        observed={
            "referenced": assets.referenced,
            "checked": len(assets.assets),
            "not_200": {a.url: a.status or a.unreachable for a in broken[:20]},
            "not_immutable": [a.url for a in mutable[:20]],
            "immutable_html": frozen_html,
        },
        threshold={"status": 200, "asset_cache_control": "immutable", "immutable_html": []},
        evidence=[f"GET {a.url} -> {a.status or a.unreachable}" for a in broken[:10]]
        + [
            f"edge HTML {p.path}: cache-control {p.headers.get('cache-control', '-')}"
            for p in frontend_pages.edge
        ],
    )
    assert assets.referenced > 0, (
        f"{assets.surface}: the edge HTML references no /_next/static asset; expected a Next.js page"
    )
    assert not broken, (
        f"{assets.surface}: {len(broken)} of {plural(len(assets.assets), 'asset')} referenced by the "
        f"edge HTML do not resolve ({broken[0].url} -> {broken[0].status or broken[0].unreachable}); "
        "expected 200 (stale HTML at the edge?)"
    )
    assert not mutable, (
        f"{assets.surface}: {plural(len(mutable), 'asset')} not cached as immutable ({mutable[0].url}: "
        f"{mutable[0].cache_control}); expected public, max-age=31536000, immutable"
    )
    assert not frozen_html, (
        f"{assets.surface}: HTML of {', '.join(frozen_html)} cached as immutable; expected revalidated HTML"
    )


@smoke
@synthetic
def test_tls(
    frontend_tls: TlsObservation, verify_thresholds: Any, verify_check: CheckRecord
) -> None:
    """The edge's certificate is valid with >= cert_min_days left; TLS >= 1.2."""
    from verify.probes.tls import protocol_at_least

    tls, minimum = frontend_tls, verify_thresholds.cert_min_days
    days = None if tls.days_left is None else round(tls.days_left, 1)
    verify_check.record(
        observed={
            "valid": tls.valid,
            "error": tls.error,
            "days_left": days,
            "protocol": tls.protocol,
        },
        threshold={"valid": True, "days_left": f">= {minimum:g}", "protocol": f">= {MIN_TLS}"},
        evidence=[tls.line()],
    )
    where = f"{tls.host}:{tls.port}"
    assert tls.unreachable is None, f"{where}: {tls.unreachable}; expected a TLS handshake"
    assert tls.valid, f"{where}: certificate rejected ({tls.error}); expected a valid certificate"
    assert protocol_at_least(tls.protocol, MIN_TLS), (
        f"{where}: negotiated {tls.protocol}; expected >= {MIN_TLS}"
    )
    assert days is not None, (
        f"{where}: certificate not verified (verify_tls = false); expected its expiry"
    )
    assert days >= minimum, (
        f"{where}: certificate expires in {days:g} days ({tls.not_after:%Y-%m-%d}); "
        f"expected >= {minimum:g} days (cert_min_days)"
    )


@smoke
@synthetic
def test_https_redirect(
    frontend_redirect: Redirect, frontend_surface_config: SurfaceConfig, verify_check: CheckRecord
) -> None:
    """Plain HTTP answers with a redirect to the same host over HTTPS."""
    from urllib.parse import urlsplit

    r = frontend_redirect
    verify_check.record(
        observed={"status": r.status or r.unreachable, "location": r.location},
        threshold={"status": list(REDIRECTS), "location": "https://<same host>/..."},
        evidence=[
            f"GET {r.url} -> {r.status or r.unreachable}"
            + (f", location {r.location}" if r.location else "")
        ],
    )
    assert r.unreachable is None, f"{r.url}: {r.unreachable}; expected a redirect to HTTPS"
    assert r.status in REDIRECTS, (
        f"{r.url} answered HTTP {r.status}; expected a redirect ({REDIRECTS}) to HTTPS"
    )
    target = urlsplit(r.location or "")
    host = urlsplit(r.url).hostname
    assert target.scheme == "https" and target.hostname == host, (
        f"{r.url} redirects to {r.location!r}; expected https://{host}/..."
    )


@pytest.mark.deep
@synthetic
def test_security_headers(
    frontend_pages: SurfacePages,
    frontend_surface_config: SurfaceConfig,
    verify_thresholds: Any,
    verify_check: CheckRecord,
) -> None:
    """The edge's HTML carries the required security headers (HSTS long enough), none forbidden."""
    page = frontend_pages.edge[0]
    config = frontend_surface_config
    headers = page.headers
    missing = [h for h in config.security_headers if not any(a in headers for a in h.split("|"))]
    present = [h for h in config.forbidden_headers if h.lower() in headers]
    hsts = _max_age(headers.get("strict-transport-security", ""))
    minimum = verify_thresholds.hsts_min_age_s
    verify_check.record(
        observed={"missing": missing, "forbidden_present": present, "hsts_max_age": hsts},
        threshold={
            "required": config.security_headers,
            "forbidden": config.forbidden_headers,
            "hsts_max_age": minimum,
        },
        evidence=[page.line(), *(f"{k}: {v}" for k, v in sorted(headers.items()))],
    )
    assert page.unreachable is None, f"{page.url}: {page.unreachable}; expected HTML"
    assert not missing, (
        f"{page.url}: missing security header(s) {', '.join(missing)}; expected present"
    )
    assert not present, f"{page.url}: sends {', '.join(present)}; expected it hidden"
    if "strict-transport-security" in headers:
        assert hsts is not None and hsts >= minimum, (
            f"{page.url}: HSTS max-age {hsts}; expected >= {minimum} s (hsts_min_age_s)"
        )


def _ms(value: float | None) -> int | None:
    return None if value is None else round(value)


def _max_age(value: str) -> int | None:
    match = re.search(r"max-age=(\d+)", value)
    return int(match.group(1)) if match else None
