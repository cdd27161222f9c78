"""Part `edge`: Debian's nginx standing in for CloudFront in front of the support and portal apps.

TLS with a sandbox CA, HTTP -> HTTPS redirect, a real `proxy_cache` with CloudFront's headers
(verify.sandbox.edgeconf); on the AWS side (verify.sandbox.edge_aws) a CloudFront distribution per
surface with a deploy's `/*` invalidation, and the versioned S3 asset buckets. Faults rewrite the
nginx configuration and reload it (stale HTML, previous release, expiring certificate, no
redirect) or switch what CloudFront's API reports.
"""

from __future__ import annotations

import os
import shutil
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar

from verify.sandbox import edgeconf, procs, spec, webbuild
from verify.sandbox.errors import SandboxError
from verify.sandbox.part import Fault, PartContext, PartState
from verify.sandbox.parts.frontends import SURFACE, free_port
from verify.sandbox.supervise import start_supervised

READY = "edge.ready.json"
START_TIMEOUT_S = 30.0
RELOAD_TIMEOUT_S = 15.0
ROUTES = ("/", "/tickets", "/dashboard")  # support's routes in environments.toml
STALE = tuple(f"frontends.route[support:{path}]" for path in ROUTES)
FAULTS = (
    Fault(
        "asset-missing",
        "support edge serves the previous release's HTML; its /_next/static chunks 404 at the origin",
        "frontends.assets_resolve[support]",
        also=("frontends.build_id[support]", *STALE),
    ),
    Fault(
        "build-id-mismatch",
        "support edge still serves the previous release (HTML and assets)",
        "frontends.build_id[support]",
    ),
    Fault(
        "tls-expiring",
        f"support edge serves a certificate that expires in {edgeconf.EXPIRING_DAYS} days",
        "frontends.tls[support]",
    ),
    Fault(
        "https-redirect-missing",
        "support edge answers plain HTTP with the page instead of a redirect to HTTPS",
        "frontends.https_redirect[support]",
    ),
    Fault(
        "cloudfront-in-progress",
        "support distribution Status InProgress (a config change still deploying)",
        "frontends.distribution_deployed[support]",
    ),
    Fault(
        "invalidation-pending",
        "support distribution's latest invalidation InProgress",
        "frontends.invalidation_complete[support]",
    ),
)
AWS_FAULTS = frozenset({"cloudfront-in-progress", "invalidation-pending"})
NGINX_FAULTS = frozenset(f.name for f in FAULTS) - AWS_FAULTS


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None
    )
    if found is None:
        raise SandboxError("the edge part needs nginx: apt-get install nginx")
    return found


class EdgePart:
    """The CloudFront stand-in: one nginx under a supervisor, four loopback listeners."""

    name: ClassVar[str] = "edge"
    after: ClassVar[tuple[str, ...]] = ("aws", "frontends")
    serves: ClassVar[tuple[str, ...]] = ("frontends",)
    faults: ClassVar[tuple[Fault, ...]] = FAULTS
    aws_extension: ClassVar[str | None] = "verify.sandbox.edge_aws:EXTENSION"

    def start(self, ctx: PartContext) -> PartState:
        if "frontends" not in ctx.parts:
            raise SandboxError(
                "the edge fronts the frontends part: start both (--parts frontends,edge)"
            )
        frontends = ctx.parts["frontends"].data
        prefix = ctx.dir / "edge"
        shutil.rmtree(prefix, ignore_errors=True)
        for sub in ("tmp", "cache"):
            (prefix / sub).mkdir(parents=True)
        tls = edgeconf.make_tls(prefix / "tls")
        ports = frontends["ports"]
        surfaces = [
            edgeconf.SurfacePorts(
                app, free_port(), free_port(), ports[app], ports[f"{app}-previous"]
            )
            for app in webbuild.APPS
        ]
        data: dict[str, Any] = {
            "prefix": str(prefix),
            "surfaces": [asdict(s) for s in surfaces],
            "tls": tls,
            "via": edgeconf.via_id(),
            "generation": 0,
        }
        _write_conf(data, frozenset())
        nginx = nginx_binary()
        _test_conf(nginx, data)
        child = {
            "name": "nginx",
            "argv": [
                nginx,
                "-p",
                f"{prefix}/",
                "-e",
                str(prefix / "error.log"),
                "-c",
                str(prefix / "nginx.conf"),
                "-g",
                "daemon off;",
            ],
            "cwd": str(prefix),
            "port": surfaces[0].https,
            "log": str(prefix / "nginx.out"),
        }
        ready = start_supervised(
            ctx.dir / READY, [child], prefix / "supervise.log", START_TIMEOUT_S
        )
        data["nginx_pid"] = ready["children"]["nginx"]
        try:
            distributions = _create_distributions(ctx, surfaces)
        except BaseException:
            procs.stop(ready["pid"])
            raise
        data["distributions"] = distributions
        data["assets"] = {
            app: {
                ctx.previous_release: frontends["apps"][f"{app}-previous"]["static"],
                ctx.release: frontends["apps"][app]["static"],
            }
            for app in webbuild.APPS
        }
        endpoints = {"edge_ca": tls["ca"]}
        for s in surfaces:
            endpoints[f"{s.name}_edge"] = f"https://127.0.0.1:{s.https}"
            endpoints[f"{s.name}_http"] = f"http://127.0.0.1:{s.http}"
            endpoints[f"{s.name}_distribution"] = distributions[s.name]
        ctx.progress(
            "edge (nginx) ready: "
            + ", ".join(f"{s.name} https://127.0.0.1:{s.https}" for s in surfaces)
        )
        return PartState(endpoints=endpoints, pids={"supervisor": ready["pid"]}, data=data)

    def stop(self, state: PartState) -> None:
        for pid in state.pids.values():
            procs.stop(pid)

    def health(self, ctx: PartContext, state: PartState) -> str | None:
        pid = state.pids.get("supervisor")
        if pid is None or not procs.pid_alive(pid):
            return "edge (nginx) supervisor died (see edge/error.log)"
        return None

    def apply(self, ctx: PartContext, state: PartState, active: frozenset[str]) -> None:
        wanted = active & NGINX_FAULTS
        if _effective(state.data, wanted) != _conf_faults(state.data):
            reload_conf(state.data, wanted)
        ctx.aws_control("faults", {"owner": self.name, "active": sorted(active & AWS_FAULTS)})
        state.faults = sorted(active)

    def active(self, ctx: PartContext, state: PartState) -> frozenset[str]:
        answer = ctx.aws_control("status")
        return _conf_faults(state.data) | frozenset(answer["by_owner"].get(self.name, []))


def _surfaces(data: dict[str, Any]) -> list[edgeconf.SurfacePorts]:
    return [edgeconf.SurfacePorts(**s) for s in data["surfaces"]]


def _effective(data: dict[str, Any], faults: frozenset[str]) -> frozenset[str]:
    """The faults plus what a live bad deploy does: its HTML references chunks that 404."""
    return faults | ({"asset-missing"} if data.get("deploy_bad") else set())


def reload_conf(data: dict[str, Any], faults: frozenset[str]) -> None:
    """Write the configuration for `faults` (and a live bad deploy), reload nginx, wait for it."""
    data["generation"] = int(data["generation"]) + 1
    _write_conf(data, faults)
    _test_conf(nginx_binary(), data)
    os.kill(int(data["nginx_pid"]), signal.SIGHUP)
    _wait_generation(data)


def _write_conf(data: dict[str, Any], faults: frozenset[str]) -> None:
    prefix = Path(data["prefix"])
    text = edgeconf.render(
        prefix,
        _surfaces(data),
        data["tls"],
        _effective(data, faults),
        int(data["generation"]),
        data["via"],
        SURFACE,
    )
    tmp = prefix / "nginx.conf.tmp"
    tmp.write_text(text)
    os.replace(tmp, prefix / "nginx.conf")


def _conf_faults(data: dict[str, Any]) -> frozenset[str]:
    """The faults of the configuration on disk (the one nginx loaded: apply waits for it)."""
    try:
        lines = (Path(data["prefix"]) / "nginx.conf").read_text().splitlines()
    except OSError:
        return frozenset()
    listed = next((line.split(":", 1)[1] for line in lines if line.startswith("# faults:")), "")
    return frozenset(f for f in listed.strip().split(",") if f) & NGINX_FAULTS


def _test_conf(nginx: str, data: dict[str, Any]) -> None:
    prefix = Path(data["prefix"])
    result = subprocess.run(
        [
            nginx,
            "-t",
            "-q",
            "-p",
            f"{prefix}/",
            "-e",
            str(prefix / "error.log"),
            "-c",
            str(prefix / "nginx.conf"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if result.returncode != 0:
        raise SandboxError(f"edge nginx.conf rejected: {result.stderr.strip()[-300:]}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _generation_of(url: str, context: ssl.SSLContext | None) -> str | None:
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context), _NoRedirect
    )
    opener.addheaders = [("Connection", "close")]
    try:
        with opener.open(url, timeout=2) as response:
            found: str | None = response.headers.get("x-verify-edge-generation")
            return found
    except urllib.error.HTTPError as exc:
        return exc.headers.get("x-verify-edge-generation")
    except OSError:
        return None


def _wait_generation(data: dict[str, Any]) -> None:
    """Return once new connections to every listener get the reloaded configuration."""
    wanted = str(data["generation"])
    context = ssl.create_default_context(cafile=data["tls"]["ca"])
    ends = time.monotonic() + RELOAD_TIMEOUT_S
    for s in _surfaces(data):
        for url in (
            f"https://127.0.0.1:{s.https}/_verify_edge",
            f"http://127.0.0.1:{s.http}/_verify_edge",
        ):
            while _generation_of(url, context) != wanted:
                if time.monotonic() > ends:
                    raise SandboxError(f"edge did not load configuration {wanted} in time")
                time.sleep(0.05)


def _create_distributions(
    ctx: PartContext, surfaces: list[edgeconf.SurfacePorts]
) -> dict[str, str]:
    """One distribution per surface (origin + S3 assets), each with a deploy's `/*` invalidation."""
    from verify.sandbox.edge_aws import bucket_of

    cloudfront = _overlay_client(ctx, "cloudfront")
    ids = {}
    for s in surfaces:
        origins = [
            {
                "Id": f"{s.name}-next",
                "DomainName": f"{s.name}-origin.{spec.PREFIX}.internal",
                "CustomOriginConfig": {
                    "HTTPPort": 80,
                    "HTTPSPort": 443,
                    "OriginProtocolPolicy": "https-only",
                },
            },
            {
                "Id": f"{s.name}-assets",
                "DomainName": f"{bucket_of(s.name)}.s3.{spec.REGION}.amazonaws.com",
                "S3OriginConfig": {"OriginAccessIdentity": ""},
            },
        ]
        config = {
            "CallerReference": f"verify-sandbox-{s.name}",
            "Comment": f"{s.name} surface ({spec.PREFIX})",
            "Enabled": True,
            "Origins": {"Quantity": len(origins), "Items": origins},
            "DefaultCacheBehavior": {
                "TargetOriginId": f"{s.name}-next",
                "ViewerProtocolPolicy": "redirect-to-https",
                "ForwardedValues": {"QueryString": True, "Cookies": {"Forward": "all"}},
                "MinTTL": 0,
            },
        }
        created = cloudfront.create_distribution(DistributionConfig=config)
        distribution_id = created["Distribution"]["Id"]
        cloudfront.create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": 1, "Items": ["/*"]},
                "CallerReference": f"deploy-{ctx.release}",
            },
        )
        ids[s.name] = distribution_id
    return ids


def _overlay_client(ctx: PartContext, service: str) -> Any:
    """A boto3 client on the sandbox's AWS endpoint, carrying its token (no retries)."""
    import boto3
    from botocore.config import Config

    from verify.sandbox.control import TOKEN_HEADER

    session = boto3.Session(
        aws_access_key_id="verify-sandbox-edge",
        aws_secret_access_key="verify-sandbox-edge",  # not a secret: the overlay checks the token
        region_name=spec.REGION,
    )
    token = ctx.token

    def add_token(request: Any, **_: Any) -> None:
        request.headers[TOKEN_HEADER] = token

    session.events.register("before-send", add_token)
    config = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30)
    return session.client(service, endpoint_url=ctx.endpoints["aws"], config=config)  # type: ignore[call-overload]
