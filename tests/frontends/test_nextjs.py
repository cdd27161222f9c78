"""Build ids and asset paths read from HTML the real Next.js build serves (pages and app router)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from verify.probes import nextjs


@pytest.fixture(scope="module")
def origin_html(sandbox_state: Any) -> dict[str, tuple[str, str]]:
    """(url, HTML) of the support app's pages-router and app-router routes, from `next start`."""
    base = sandbox_state.endpoints["support_origin"]
    pages = {"pages": "/", "pages-ssr": "/tickets", "app-ssr": "/dashboard"}
    with httpx.Client(trust_env=False, timeout=10) as client:
        return {kind: (base + path, client.get(base + path).text) for kind, path in pages.items()}


@pytest.mark.parametrize(
    ("kind", "source"),
    [("pages", "__NEXT_DATA__"), ("pages-ssr", "__NEXT_DATA__"), ("app-ssr", "flight data")],
)
def test_build_id_of_real_build(
    kind: str, source: str, origin_html: dict[str, tuple[str, str]], sandbox_state: Any
) -> None:
    _, html = origin_html[kind]
    found = nextjs.build_id(html)
    assert found == nextjs.BuildId(sandbox_state.release, source)


def test_app_router_html_has_no_next_data(origin_html: dict[str, tuple[str, str]]) -> None:
    _, html = origin_html["app-ssr"]
    assert "__NEXT_DATA__" not in html
    assert '"b":"' in nextjs.flight_text(html)


@pytest.mark.parametrize("kind", ["pages", "app-ssr"])
def test_assets_of_real_build(
    kind: str, origin_html: dict[str, tuple[str, str]], sandbox_state: Any
) -> None:
    url, html = origin_html[kind]
    assets = nextjs.asset_urls(html, url)
    assert assets and len(assets) == len(set(assets))
    base = sandbox_state.endpoints["support_origin"]
    assert all(a.startswith(f"{base}/_next/static/") for a in assets), assets
    with httpx.Client(trust_env=False, timeout=10) as client:
        assert {client.get(a).status_code for a in assets} == {200}
    if kind == "pages":
        manifest = f"{base}/_next/static/{sandbox_state.release}/_buildManifest.js"
        assert manifest in assets


def test_html_without_next_has_no_build_id() -> None:
    assert nextjs.build_id("<html><body>maintenance</body></html>") == nextjs.BuildId(None, "none")
    assert nextjs.build_id('<script id="__NEXT_DATA__">{not json</script>').value is None
