"""Browser probe: a route loaded in real Chromium (Playwright's sync API, Debian's chromium).

One browser per run, launched on the `browser` affinity thread and shared by every route; a fresh
context per route. A route records its status, console and page errors, failed same-origin
requests (favicon noise aside) and its navigation timings. For a route with a problem, a
screenshot and a Playwright trace are kept (in a temp dir; the check moves them under reports/).

The browser only reaches the configured surfaces: every other host goes to a proxy port that
refuses connections, and Chromium's own background traffic is switched off.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from verify.probes.errors import ProbeError
from verify.redact import REDACT
from verify.text import one_line

LAUNCH_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--metrics-recording-only",
)
SETTLE_MS = 3000  # after `load`: wait this long at most for the network to go idle (hydration)
MAX_LINES = 20


def chromium_path() -> str:
    """$VERIFY_CHROMIUM, else Debian's /usr/bin/chromium, else `chromium` on PATH."""
    chosen = os.environ.get("VERIFY_CHROMIUM")
    for candidate in (chosen, "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise ProbeError(
        "browser", "Chromium not found (apt-get install chromium, or set VERIFY_CHROMIUM)"
    )


@dataclass(frozen=True)
class RouteRun:
    """One route as Chromium loaded it; `error` is set when the navigation itself failed."""

    surface: str
    path: str
    url: str
    status: int | None
    error: str | None
    console_errors: tuple[str, ...]
    page_errors: tuple[str, ...]
    failed_requests: tuple[str, ...]
    ttfb_ms: float | None
    dom_content_loaded_ms: float | None
    load_ms: float | None
    wall_ms: float
    artifacts: dict[str, str] = field(default_factory=dict)  # "screenshot"/"trace" -> temp path

    def evidence(self) -> list[str]:
        timing = (
            f"TTFB {self.ttfb_ms:.0f} ms, DOMContentLoaded {self.dom_content_loaded_ms:.0f} ms, "
            f"load {self.load_ms:.0f} ms"
            if self.load_ms is not None
            and self.ttfb_ms is not None
            and self.dom_content_loaded_ms is not None
            else "no navigation timings"
        )
        lines = [f"Chromium GET {self.url} -> {self.status or self.error}; {timing}"]
        lines += [f"console error: {line}" for line in self.console_errors]
        lines += [f"page error: {line}" for line in self.page_errors]
        lines += [f"failed request: {line}" for line in self.failed_requests]
        return lines


def problems(run: RouteRun, budget_ms: float) -> list[str]:
    """What is wrong with a route (empty when it loaded cleanly): the check's and the probe's rule."""
    found = []
    if run.error:
        found.append(f"navigation failed: {run.error}")
    elif run.status != 200:
        found.append(f"HTTP {run.status}")
    if run.console_errors:
        found.append(f"{len(run.console_errors)} console error(s)")
    if run.page_errors:
        found.append(f"{len(run.page_errors)} page error(s)")
    if run.failed_requests:
        found.append(f"{len(run.failed_requests)} failed request(s)")
    if run.load_ms is not None and run.load_ms > budget_ms:
        found.append(f"load {run.load_ms:.0f} ms over {budget_ms:.0f} ms")
    return found


@dataclass
class BrowserHandle:
    """Playwright, the browser and the refusing proxy port, closed together."""

    playwright: Any
    browser: Any
    refuser: socket.socket

    def close(self) -> None:
        try:
            self.browser.close()
        finally:
            try:
                self.playwright.stop()
            finally:
                self.refuser.close()


def spki_hashes(ca_bundle: str) -> list[str]:
    """base64(sha256(SubjectPublicKeyInfo)) of every certificate in a PEM bundle (Chromium's form)."""
    import ssl

    try:
        text = Path(ca_bundle).read_text()
    except OSError as exc:
        raise ProbeError(f"ca_bundle {ca_bundle}", f"cannot read: {exc.strerror}") from None
    hashes = []
    for block in text.split("-----END CERTIFICATE-----")[:-1]:
        start = block.find("-----BEGIN CERTIFICATE-----")
        if start < 0:
            continue
        der = ssl.PEM_cert_to_DER_cert(block[start:] + "-----END CERTIFICATE-----\n")
        hashes.append(base64.b64encode(hashlib.sha256(_spki(der)).digest()).decode())
    return hashes


def _der_item(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER item at `at`."""
    tag, length = data[at], data[at + 1]
    at += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[at : at + count], "big")
        at += count
    return tag, at, at + length


def _spki(certificate: bytes) -> bytes:
    """The SubjectPublicKeyInfo of a DER certificate: the 7th field of tbsCertificate (or 6th
    when the version is absent)."""
    _, body, _ = _der_item(certificate, 0)
    _, at, _ = _der_item(certificate, body)  # tbsCertificate's content
    fields: list[tuple[int, int, int]] = []
    while len(fields) < 7:
        tag, _, end = _der_item(certificate, at)
        fields.append((tag, at, end))
        at = end
    if fields[0][0] != 0xA0:  # no explicit version: subjectPublicKeyInfo is one earlier
        fields.insert(0, (0xA0, 0, 0))
    _, begin, end = fields[6]
    return certificate[begin:end]


def launch(allowed_hosts: list[str], trusted_spki: list[str], timeout_s: float) -> BrowserHandle:
    """Start Playwright and Debian's Chromium; only `allowed_hosts` are reachable."""
    from playwright.sync_api import Error, sync_playwright

    # A bound, never-listening socket: connecting to it is refused at once.
    refuser = socket.socket()
    refuser.bind(("127.0.0.1", 0))
    args = list(LAUNCH_FLAGS)
    if trusted_spki:
        # Trust the configured CA bundle's keys (Chromium cannot take a CA file).
        args.append("--ignore-certificate-errors-spki-list=" + ",".join(trusted_spki))
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(),
            args=args,
            proxy={
                "server": f"http://127.0.0.1:{refuser.getsockname()[1]}",
                # <-loopback>: loopback addresses too go to the refusing proxy unless allowed.
                "bypass": ",".join(["<-loopback>", *sorted(set(allowed_hosts))]),
            },
            timeout=timeout_s * 1000,
        )
    except Error as exc:
        playwright.stop()
        refuser.close()
        raise ProbeError(
            "browser", f"Chromium did not start: {one_line(REDACT(str(exc)), 300)}"
        ) from None
    except BaseException:
        playwright.stop()
        refuser.close()
        raise
    return BrowserHandle(playwright, browser, refuser)


def _is_favicon(url: str) -> bool:
    return urlsplit(url).path == "/favicon.ico"


def visit(
    handle: BrowserHandle,
    surface: str,
    path: str,
    url: str,
    *,
    timeout_s: float,
    budget_ms: float,
    ignore_https_errors: bool,
) -> RouteRun:
    """Load `url` in a fresh context; keep a screenshot and a trace when it has a problem."""
    from playwright.sync_api import Error

    origin = urlsplit(url)
    console: list[str] = []
    page_errors: list[str] = []
    failed: list[str] = []

    def same_origin(other: str) -> bool:
        parts = urlsplit(other)
        return (parts.scheme, parts.hostname, parts.port) == (
            origin.scheme,
            origin.hostname,
            origin.port,
        )

    def on_console(message: Any) -> None:
        if message.type != "error":
            return
        where = (message.location or {}).get("url", "")
        if _is_favicon(where):
            return
        console.append(one_line(REDACT(message.text), 300))

    def on_response(response: Any) -> None:
        request = response.request
        main_document = request.is_navigation_request() and request.frame.parent_frame is None
        counted = same_origin(response.url) and not _is_favicon(response.url) and not main_document
        if response.status >= 400 and counted:
            failed.append(f"{request.method} {REDACT(response.url)} -> HTTP {response.status}")

    def on_failed(request: Any) -> None:
        if same_origin(request.url) and not _is_favicon(request.url):
            failed.append(f"{request.method} {REDACT(request.url)}: {request.failure or 'failed'}")

    context = handle.browser.new_context(
        ignore_https_errors=ignore_https_errors, service_workers="block"
    )
    started = time.perf_counter()
    try:
        context.set_default_timeout(timeout_s * 1000)
        context.tracing.start(
            screenshots=False, snapshots=True
        )  # DOM snapshots; one PNG on failure
        page = context.new_page()
        page.on("console", on_console)
        page.on("pageerror", lambda error: page_errors.append(one_line(REDACT(str(error)), 300)))
        page.on("response", on_response)
        page.on("requestfailed", on_failed)
        status, error = None, None
        try:
            response = page.goto(url, wait_until="load", timeout=timeout_s * 1000)
            status = response.status if response is not None else None
            # A page that keeps polling is not broken: what it logged so far counts.
            with contextlib.suppress(Error):
                page.wait_for_load_state("networkidle", timeout=SETTLE_MS)
        except Error as exc:
            error = one_line(REDACT(str(exc).split("\n", 1)[0]), 300)
        timings = _timings(page) if error is None else {}
        run = RouteRun(
            surface=surface,
            path=path,
            url=url,
            status=status,
            error=error,
            console_errors=tuple(console[:MAX_LINES]),
            page_errors=tuple(page_errors[:MAX_LINES]),
            failed_requests=tuple(dict.fromkeys(failed))[:MAX_LINES],
            ttfb_ms=timings.get("ttfb"),
            dom_content_loaded_ms=timings.get("dcl"),
            load_ms=timings.get("load"),
            wall_ms=(time.perf_counter() - started) * 1000,
        )
        if problems(run, budget_ms):
            return _with_artifacts(run, page, context)
        context.tracing.stop()
        return run
    finally:
        context.close()


def _timings(page: Any) -> dict[str, float]:
    from playwright.sync_api import Error

    try:
        found = page.evaluate(
            """() => { const n = performance.getEntriesByType('navigation')[0];
                return n ? {ttfb: n.responseStart, dcl: n.domContentLoadedEventEnd,
                            load: n.loadEventEnd} : null; }"""
        )
    except Error:
        return {}
    return {k: float(v) for k, v in (found or {}).items() if isinstance(v, int | float) and v > 0}


def _with_artifacts(run: RouteRun, page: Any, context: Any) -> RouteRun:
    from dataclasses import replace

    from playwright.sync_api import Error

    folder = Path(tempfile.mkdtemp(prefix="verify-frontends-"))
    kept: dict[str, str] = {}
    try:
        page.screenshot(path=str(folder / "screenshot.png"), full_page=True, timeout=5000)
        kept["screenshot"] = str(folder / "screenshot.png")
    except Error:
        pass  # a page that never rendered has no screenshot; the trace still tells
    try:
        context.tracing.stop(path=str(folder / "trace.zip"))
        kept["trace"] = str(folder / "trace.zip")
    except Error:
        pass
    return replace(run, artifacts=kept)
