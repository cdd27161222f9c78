"""What a Next.js page's HTML tells without running it: its build id and the assets it needs.

Pages router: `<script id="__NEXT_DATA__">` JSON holds `buildId` (and the build manifests sit
under `/_next/static/<buildId>/`). App router: no `__NEXT_DATA__`; the id is only in the flight
data, `self.__next_f.push([1, "..."])` scripts whose strings, JSON-decoded and joined, carry
`"b":"<buildId>"`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

_NEXT_DATA = re.compile(
    r'<script[^>]*\bid=["\']__NEXT_DATA__["\'][^>]*>(?P<json>.*?)</script>',
    re.DOTALL | re.IGNORECASE,
)
_FLIGHT = re.compile(r"self\.__next_f\.push\((?P<args>\[.*?\])\)</script>", re.DOTALL)
_FLIGHT_BUILD_ID = re.compile(r'"b":"(?P<id>[^"\\]{1,200})"')
_MANIFEST = re.compile(r"/_next/static/(?P<id>[^/\"'\s<>]{1,200})/_buildManifest\.js")
# Asset paths as they appear in attributes, inline scripts and (escaped) flight data.
_ASSET = re.compile(r"/_next/static/[A-Za-z0-9_\-./~%@+]+(?:\?[A-Za-z0-9_\-=&.%]+)?")
MAX_ASSETS = 500


@dataclass(frozen=True)
class BuildId:
    """The build id a page carries and where it was found (`__NEXT_DATA__`, `flight`, ...)."""

    value: str | None
    source: str  # "__NEXT_DATA__" | "flight data" | "build manifest path" | "none"


def build_id(html: str) -> BuildId:
    """The page's build id: pages router first, then app router flight data, then asset paths."""
    match = _NEXT_DATA.search(html)
    if match:
        try:
            data = json.loads(match["json"])
        except (ValueError, RecursionError):
            data = None
        if isinstance(data, dict) and isinstance(data.get("buildId"), str):
            return BuildId(data["buildId"], "__NEXT_DATA__")
    flight = flight_text(html)
    if flight:
        found = _FLIGHT_BUILD_ID.search(flight)
        if found:
            return BuildId(found["id"], "flight data")
    manifest = _MANIFEST.search(html)
    if manifest:
        return BuildId(manifest["id"], "build manifest path")
    return BuildId(None, "none")


def flight_text(html: str) -> str:
    """The app router's flight data: the strings of every `self.__next_f.push([1, ...])`, joined."""
    pieces: list[str] = []
    for match in _FLIGHT.finditer(html):
        try:
            args = json.loads(match["args"])
        except (ValueError, RecursionError):
            continue
        if isinstance(args, list) and len(args) >= 2 and args[0] == 1 and isinstance(args[1], str):
            pieces.append(args[1])
    return "".join(pieces)


def asset_urls(html: str, page_url: str, limit: int = MAX_ASSETS) -> list[str]:
    """Absolute URLs of every distinct `/_next/static/...` path the HTML references (same origin)."""
    seen: dict[str, None] = {}
    for text in (html, flight_text(html)):
        for match in _ASSET.finditer(text):
            path = match.group(0).rstrip(".")
            if path.endswith("/"):
                continue
            seen.setdefault(urljoin(page_url, path), None)
            if len(seen) >= limit:
                return list(seen)
    return list(seen)


def same_origin(url: str, other: str) -> bool:
    a, b = urlsplit(url), urlsplit(other)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)
