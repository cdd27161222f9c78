"""Component `frontends`: Next.js surfaces behind CloudFront (`frontends.support = {...}`).

Per surface: the distribution is deployed and its latest invalidation complete; each route loads
cleanly in real Chromium within its budget and server-renders its marker; every HTML route at the
edge carries one build id (the origin's, the release's); every asset the edge HTML references
resolves; TLS, the HTTP -> HTTPS redirect and the security headers.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from verify.config import HttpUrl, MapTable, Table
from verify.registry import Component, Probe, View

if TYPE_CHECKING:
    from collections.abc import Mapping

    import httpx

    from verify.context import ProbeContext
    from verify.iam import Grant, Scope
    from verify.probes.aws.cloudfront import Distribution
    from verify.probes.browser import BrowserHandle, RouteRun
    from verify.probes.frontend_http import Page, Redirect, SurfaceAssets, SurfacePages
    from verify.probes.tls import TlsObservation

SURFACE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
DEFAULT_SECURITY_HEADERS = [
    "strict-transport-security",
    "x-content-type-options",
    "x-frame-options|content-security-policy",
    "referrer-policy",
]


class RouteConfig(Table):
    path: str = Field(min_length=1, max_length=2000)
    marker: str | None = Field(None, min_length=1, max_length=500)  # text the first HTML holds
    budget_ms: float | None = Field(None, gt=0, le=120_000)  # else frontend_route_ms

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if (
            not value.startswith("/")
            or "#" in value
            or "::" in value
            or any(c.isspace() for c in value)
        ):
            raise ValueError("must start with '/' and hold no #fragment, '::' or whitespace")
        return value


class SurfaceConfig(Table):
    url: HttpUrl  # the edge (CloudFront) address users reach, https://
    origin_url: HttpUrl | None = None  # the origin behind it, to compare build ids with
    http_url: HttpUrl | None = None  # plain-HTTP address of the edge; default: url with http://
    distribution_id: str | None = Field(None, min_length=1, max_length=64)
    routes: list[RouteConfig] = Field(min_length=1, max_length=50)  # "/path" or {path, marker}
    # "release": the app's generateBuildId returns the release; "consistent": ids only agree.
    build_id: Literal["release", "consistent"] = "consistent"
    verify_tls: bool = True
    ca_bundle: str | None = None  # PEM file of the CA to trust instead of the system store
    security_headers: list[str] = Field(DEFAULT_SECURITY_HEADERS, max_length=30)  # a|b: either
    forbidden_headers: list[str] = Field(["x-powered-by"], max_length=30)

    @field_validator("routes", mode="before")
    @classmethod
    def _plain_paths(cls, value: Any) -> Any:
        """A route given as a bare path is a route without marker."""
        if isinstance(value, list):
            return [{"path": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("url")
    @classmethod
    def _https(cls, value: str) -> str:
        if not value.startswith(("https://", "sandbox:")):
            raise ValueError("must start with https:// (the edge a user reaches)")
        return value

    @model_validator(mode="after")
    def _unique_routes(self) -> SurfaceConfig:
        paths = [r.path for r in self.route_list()]
        duplicate = next((p for p in paths if paths.count(p) > 1), None)
        if duplicate is not None:
            raise ValueError(f"route {duplicate!r} is listed twice")
        return self

    def route_list(self) -> list[RouteConfig]:
        return list(self.routes)

    def route(self, path: str) -> RouteConfig:
        return next(r for r in self.route_list() if r.path == path)

    def plain_http_url(self) -> str:
        if self.http_url:
            return self.http_url
        from urllib.parse import urlsplit

        host = urlsplit(self.url).hostname or ""
        return f"http://{host}"


class FrontendsConfig(MapTable):
    root: dict[str, SurfaceConfig] = Field(min_length=1, max_length=50)

    @field_validator("root")
    @classmethod
    def _names(cls, value: dict[str, SurfaceConfig]) -> dict[str, SurfaceConfig]:
        for name in value:
            if not SURFACE_NAME.match(name):
                raise ValueError(f"surface name {name!r}: letters, digits, '_' and '-' only")
        return value


class FrontendsThresholds(Table):
    frontend_route_ms: float = Field(3000, gt=0, le=120_000)  # a route's load event in Chromium
    frontend_timeout_s: float = Field(20, gt=0, le=300)  # one browser navigation
    frontend_max_assets: int = Field(200, ge=1, le=500)  # assets fetched per surface
    cert_min_days: float = Field(14, ge=0, le=3650)
    hsts_min_age_s: int = Field(15_552_000, ge=0, le=10 * 31_536_000)  # 180 days


def _surfaces(ctx: ProbeContext) -> dict[str, SurfaceConfig]:
    table: FrontendsConfig = ctx.table
    return table.root


def _split(route_id: str) -> tuple[str, str]:
    surface, _, path = route_id.partition(":")
    return surface, path


# --- probes -------------------------------------------------------------------------------------


def observe_cloudfront(ctx: ProbeContext) -> dict[str, Distribution]:
    from verify.probes.aws import cloudfront

    ids = {name: s.distribution_id for name, s in _surfaces(ctx).items() if s.distribution_id}
    return cloudfront.observe_distributions(ctx.aws("cloudfront"), ids) if ids else {}


def _client(ctx: ProbeContext, name: str) -> httpx.Client:
    import httpx

    from verify.clients import USER_AGENT
    from verify.probes.tls import context_for

    surface = _surfaces(ctx)[name]

    def build() -> httpx.Client:
        verify: Any = context_for(surface.ca_bundle, surface.verify_tls)
        return httpx.Client(
            verify=verify,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
            headers={"user-agent": USER_AGENT},
            trust_env=False,
        )

    return ctx.shared(f"frontends.http.{name}", build, lambda client: client.close())


def _map(ctx: ProbeContext, fn: Any, items: list[Any]) -> list[Any]:
    """`fn` over `items` on a few daemon threads, results in order."""
    from verify.probes.aws.calls import call_pool

    with call_pool(8) as pool:
        futures = [pool.submit(fn, item) for item in items]
        return [future.result() for future in futures]


def observe_pages(ctx: ProbeContext) -> dict[str, SurfacePages]:
    """Every route's first HTML at the edge (and at the origin when configured)."""
    from verify.probes.frontend_http import SurfacePages, observe_page

    timeout = ctx.thresholds.http_timeout_s
    jobs = [
        (name, base, route, where)
        for name, surface in _surfaces(ctx).items()
        for where, base in (("edge", surface.url), ("origin", surface.origin_url))
        if base
        for route in surface.route_list()
    ]

    def one(job: tuple[str, str, Any, str]) -> Page:
        name, base, route, _ = job
        return observe_page(
            _client(ctx, name), base, route.path, route.marker, ctx.timeout(timeout)
        )

    pages = _map(ctx, one, jobs)
    return {
        name: SurfacePages(
            name,
            tuple(p for p, j in zip(pages, jobs, strict=True) if j[0] == name and j[3] == "edge"),
            tuple(p for p, j in zip(pages, jobs, strict=True) if j[0] == name and j[3] == "origin"),
        )
        for name in _surfaces(ctx)
    }


def observe_assets(ctx: ProbeContext) -> dict[str, SurfaceAssets]:
    """Every `/_next/static/...` asset the edge HTML references, fetched at the edge."""
    from verify.probes.frontend_http import observe_asset, observe_assets

    pages: dict[str, SurfacePages] = ctx.observe("frontends.pages")
    timeout = ctx.thresholds.http_timeout_s

    def one(name: str) -> SurfaceAssets:
        client = _client(ctx, name)
        return observe_assets(
            name,
            pages[name].edge,
            lambda url: observe_asset(client, url, ctx.timeout(timeout)),
            lambda fn, urls: _map(ctx, fn, urls),
            ctx.thresholds.frontend_max_assets,
        )

    return {name: one(name) for name in _surfaces(ctx)}


def observe_redirects(ctx: ProbeContext) -> dict[str, Redirect]:
    from verify.probes.frontend_http import join, observe_redirect

    timeout = ctx.thresholds.http_timeout_s
    items = list(_surfaces(ctx).items())
    found = _map(
        ctx,
        lambda item: observe_redirect(
            _client(ctx, item[0]),
            join(item[1].plain_http_url(), item[1].route_list()[0].path),
            ctx.timeout(timeout),
        ),
        items,
    )
    return {name: redirect for (name, _), redirect in zip(items, found, strict=True)}


def observe_tls(ctx: ProbeContext) -> dict[str, TlsObservation]:
    from urllib.parse import urlsplit

    from verify.probes import tls

    timeout = ctx.thresholds.http_timeout_s

    def one(item: tuple[str, SurfaceConfig]) -> TlsObservation:
        parts = urlsplit(item[1].url)
        context = tls.context_for(item[1].ca_bundle, item[1].verify_tls)
        return tls.observe(parts.hostname or "", parts.port or 443, context, ctx.timeout(timeout))

    items = list(_surfaces(ctx).items())
    return {name: obs for (name, _), obs in zip(items, _map(ctx, one, items), strict=True)}


def observe_browser(ctx: ProbeContext) -> dict[str, RouteRun]:
    """Every route in Chromium, one after another, one browser per run (affinity `browser`)."""
    from urllib.parse import urlsplit

    from verify.probes import browser
    from verify.probes.frontend_http import join

    surfaces = _surfaces(ctx)
    limits = ctx.thresholds
    hosts = [
        urlsplit(url).hostname or ""
        for s in surfaces.values()
        for url in (s.url, s.origin_url)
        if url
    ]
    spki = [h for s in surfaces.values() if s.ca_bundle for h in browser.spki_hashes(s.ca_bundle)]

    def launch() -> BrowserHandle:
        return browser.launch(hosts, spki, ctx.timeout(limits.frontend_timeout_s))

    handle = ctx.shared("frontends.browser", launch, lambda h: h.close())
    runs: dict[str, RouteRun] = {}
    for name, surface in surfaces.items():
        for route in surface.route_list():
            runs[f"{name}:{route.path}"] = browser.visit(
                handle,
                name,
                route.path,
                join(surface.url, route.path),
                timeout_s=ctx.timeout(limits.frontend_timeout_s),
                budget_ms=route.budget_ms or limits.frontend_route_ms,
                ignore_https_errors=not surface.verify_tls,
            )
    return runs


# --- views --------------------------------------------------------------------------------------


def surface_config(table: FrontendsConfig, params: Mapping[str, Any]) -> SurfaceConfig:
    name: str = params.get("frontend_surface") or params["frontend_cdn_surface"]
    return table.root[name]


def by_surface(key: str) -> Any:
    def derive(observation: Mapping[str, Any], params: Mapping[str, Any]) -> Any:
        return observation[params[key]]

    return derive


def route_config(table: FrontendsConfig, params: Mapping[str, Any]) -> RouteConfig:
    surface, path = _split(params.get("frontend_route") or params["frontend_ssr_route"])
    return table.root[surface].route(path)


def ssr_page(observation: Mapping[str, SurfacePages], params: Mapping[str, Any]) -> Page:
    surface, path = _split(params["frontend_ssr_route"])
    return next(p for p in observation[surface].edge if p.path == path)


def route_run(observation: Mapping[str, RouteRun], params: Mapping[str, Any]) -> RouteRun:
    return observation[params["frontend_route"]]


def _routes(table: FrontendsConfig, ssr: bool) -> list[str]:
    return [
        f"{name}:{route.path}"
        for name, surface in table.root.items()
        for route in surface.route_list()
        if route.marker or not ssr
    ]


SURFACE = ("frontend_surface",)


def iam(table: FrontendsConfig, scope: Scope) -> list[Grant]:
    """Distributions are listed (unscoped); invalidations read per configured distribution."""
    from verify.iam import Grant

    ids = sorted({s.distribution_id for s in table.root.values() if s.distribution_id})
    if not ids:
        return []
    dists = tuple(scope.arn("cloudfront", f"distribution/{i}", regional=False) for i in ids)
    return [
        Grant(("cloudfront:ListDistributions",), why="CdnDistributions"),
        Grant(("cloudfront:ListInvalidations",), dists, why="CdnInvalidations"),
    ]


COMPONENT = Component(
    name="frontends",
    table=FrontendsConfig,
    thresholds=FrontendsThresholds,
    checks="verify.checks.test_frontends",
    probes=(
        Probe("frontends.cloudfront", observe_cloudfront),
        Probe("frontends.pages", observe_pages),
        Probe("frontends.assets", observe_assets),
        Probe("frontends.redirect", observe_redirects),
        Probe("frontends.tls", observe_tls),
        Probe("frontends.browser", observe_browser, affinity="browser"),
    ),
    views=(
        View("frontend_surface_config", None, surface_config, params=("frontend_surface",)),
        View("frontend_cdn_config", None, surface_config, params=("frontend_cdn_surface",)),
        View(
            "frontend_distribution",
            "frontends.cloudfront",
            by_surface("frontend_cdn_surface"),
            params=("frontend_cdn_surface",),
        ),
        View("frontend_pages", "frontends.pages", by_surface("frontend_surface"), params=SURFACE),
        View("frontend_ssr_page", "frontends.pages", ssr_page, params=("frontend_ssr_route",)),
        View("frontend_assets", "frontends.assets", by_surface("frontend_surface"), params=SURFACE),
        View(
            "frontend_redirect",
            "frontends.redirect",
            by_surface("frontend_surface"),
            params=SURFACE,
        ),
        View("frontend_tls", "frontends.tls", by_surface("frontend_surface"), params=SURFACE),
        View("frontend_route_run", "frontends.browser", route_run, params=("frontend_route",)),
        View("frontend_route_config", None, route_config, params=("frontend_route",)),
    ),
    params={
        "frontend_surface": lambda table: list(table.root),
        "frontend_cdn_surface": lambda table: [
            n for n, s in table.root.items() if s.distribution_id
        ],
        "frontend_route": lambda table: _routes(table, ssr=False),
        "frontend_ssr_route": lambda table: _routes(table, ssr=True),
    },
    summary="CloudFront deployed, routes render in Chromium, SSR, one build id, assets resolve, TLS",
    iam=iam,
)
