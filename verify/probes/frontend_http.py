"""Plain HTTP (no JavaScript) looks at a Next.js surface: first HTML, build ids, assets, redirect.

Every request goes through `verify.probes.http.fetch` (identity encoding, a byte cap counted on
the wire, one deadline per answer). Only headers that say how a page is served are kept: never
`set-cookie` or anything credential-like.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from verify.probes import nextjs
from verify.probes.http import fetch
from verify.redact import REDACT
from verify.text import one_line

if TYPE_CHECKING:
    import httpx

MAX_HTML_BYTES = 2 * 1024 * 1024
KEPT_HEADERS = (
    "cache-control",
    "content-type",
    "age",
    "via",
    "x-cache",
    "x-nextjs-cache",
    "etag",
    "location",
    "strict-transport-security",
    "x-content-type-options",
    "x-frame-options",
    "content-security-policy",
    "referrer-policy",
    "permissions-policy",
    "x-powered-by",
    "server",
)


@dataclass(frozen=True)
class Page:
    """One route's first HTML as a browser without JavaScript gets it."""

    path: str
    url: str
    status: int | None
    unreachable: str | None
    build_id: str | None
    build_id_source: str
    marker: str | None  # the route's configured server-rendered text
    marker_found: bool | None  # None when no marker is configured
    headers: dict[str, str]
    assets: tuple[str, ...]
    excerpt: str
    latency_ms: float

    def line(self) -> str:
        if self.unreachable:
            return f"GET {self.url}: {self.unreachable}"
        cache = self.headers.get("x-cache", "-")
        return (
            f"GET {self.url} -> HTTP {self.status} in {self.latency_ms:.0f} ms, build id "
            f"{self.build_id!r} ({self.build_id_source}), x-cache {cache}"
        )


@dataclass(frozen=True)
class SurfacePages:
    surface: str
    edge: tuple[Page, ...]
    origin: tuple[Page, ...]  # empty when no origin_url is configured


@dataclass(frozen=True)
class Asset:
    url: str
    status: int | None
    cache_control: str | None
    unreachable: str | None = None


@dataclass(frozen=True)
class SurfaceAssets:
    surface: str
    referenced: int  # distinct /_next/static URLs in the edge HTML
    assets: tuple[Asset, ...]  # those fetched (at most frontend_max_assets)


@dataclass(frozen=True)
class Redirect:
    url: str
    status: int | None
    location: str | None
    unreachable: str | None


def join(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path.lstrip("/")


def observe_page(
    client: httpx.Client, base_url: str, path: str, marker: str | None, timeout_s: float
) -> Page:
    url = join(base_url, path)
    got = fetch(client, url, timeout_s, max_body_bytes=MAX_HTML_BYTES)
    # React separates interpolated text with empty comments ("Open tickets: <!-- -->3").
    html = got.text().replace("<!-- -->", "") if got.status is not None else ""
    found = nextjs.build_id(html) if html else nextjs.BuildId(None, "none")
    return Page(
        path=path,
        url=got.url,
        status=got.status,
        unreachable=got.unreachable,
        build_id=found.value,
        build_id_source=found.source,
        marker=marker,
        marker_found=None if marker is None else marker in html,
        headers={k: one_line(REDACT(v), 300) for k, v in got.headers.items() if k in KEPT_HEADERS},
        assets=tuple(nextjs.asset_urls(html, url)) if html else (),
        excerpt=one_line(REDACT(html[:400]), 300),
        latency_ms=got.latency_ms,
    )


def observe_asset(client: httpx.Client, url: str, timeout_s: float) -> Asset:
    # Status and headers are all that count: read one chunk, not the whole bundle.
    got = fetch(client, url, timeout_s, max_body_bytes=1)
    return Asset(got.url, got.status, got.headers.get("cache-control"), got.unreachable)


def observe_assets(
    surface: str,
    pages: Sequence[Page],
    fetch_one: Callable[[str], Asset],
    map_all: Callable[[Callable[[str], Asset], list[str]], list[Asset]],
    limit: int,
) -> SurfaceAssets:
    """Every distinct asset the edge pages reference, fetched at the edge (at most `limit`)."""
    urls = list(dict.fromkeys(url for page in pages for url in page.assets))
    return SurfaceAssets(surface, len(urls), tuple(map_all(fetch_one, urls[:limit])))


def observe_redirect(client: httpx.Client, url: str, timeout_s: float) -> Redirect:
    got = fetch(client, url, timeout_s, max_body_bytes=64 * 1024)
    return Redirect(got.url, got.status, got.headers.get("location"), got.unreachable)
