"""The edge's TLS material (a sandbox CA and its server certificates) and its nginx.conf.

The edge stands in for CloudFront in front of each surface: TLS on loopback, HTTP redirected to
HTTPS, HTML and `/_next/static/` assets cached (`proxy_cache`, honouring the origin's
Cache-Control) with CloudFront's `x-cache`, `via`, `x-amz-cf-*` headers, and the security headers a
response-headers policy adds. Faults rewrite this file and reload nginx.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

PERL_MODULE = Path("/usr/lib/nginx/modules/ngx_http_perl_module.so")  # libnginx-mod-http-perl
# CloudFront's `age` on a hit: seconds since the cached response's (origin's) Date.
AGE = """
    perl_set $edge_age 'sub {
        my $r = shift;
        my $status = $r->variable("upstream_cache_status") || "";
        return "" unless $status eq "HIT" || $status eq "STALE";
        my $date = $r->variable("sent_http_date") || "";
        my %month = (Jan=>0, Feb=>1, Mar=>2, Apr=>3, May=>4, Jun=>5,
                     Jul=>6, Aug=>7, Sep=>8, Oct=>9, Nov=>10, Dec=>11);
        return "0" unless $date =~ /(\\d+) (\\w{3}) (\\d{4}) (\\d+):(\\d+):(\\d+)/;
        require Time::Local;
        my $age = time() - Time::Local::timegm($6, $5, $4, $1, $month{$2}, $3);
        return $age > 0 ? "$age" : "0";
    }';
"""
EXPIRING_DAYS = 3  # tls-expiring: the certificate the edge serves then
VALID_DAYS = 90
HTML_FAULTS = {"asset-missing", "build-id-mismatch"}


@dataclass(frozen=True)
class SurfacePorts:
    """One surface at the edge: its listeners and the origins it forwards to."""

    name: str
    https: int
    http: int
    origin: int  # the release's next-server
    previous: int  # the previous release's next-server


def make_tls(dir: Path) -> dict[str, str]:
    """A CA, and two server certificates for 127.0.0.1/localhost signed by it (one expiring)."""
    from verify.sandbox.tlsca import Authority

    dir.mkdir(parents=True, exist_ok=True)
    authority = Authority()
    paths = {
        "ca": dir / "ca.pem",
        "cert": dir / "edge.pem",
        "expiring": dir / "edge-expiring.pem",
        "key": dir / "edge.key",
    }
    paths["ca"].write_bytes(authority.pem())
    paths["cert"].write_bytes(authority.server_chain(VALID_DAYS))
    paths["expiring"].write_bytes(authority.server_chain(EXPIRING_DAYS))
    authority.write_key(paths["key"])
    return {name: str(path) for name, path in paths.items()}


def via_id() -> str:
    """The CloudFront-like host id in the `via` header."""
    return secrets.token_hex(16)


def render(
    prefix: Path,
    surfaces: list[SurfacePorts],
    tls: dict[str, str],
    faults: frozenset[str],
    generation: int,
    via: str,
    faulty_surface: str,
) -> str:
    """nginx.conf for `surfaces` with `faults` in effect on `faulty_surface`."""
    user = "user root root;\n" if os.geteuid() == 0 else ""
    perl = PERL_MODULE.exists()
    servers = "".join(
        _servers(s, tls, faults if s.name == faulty_surface else frozenset(), generation, via, perl)
        for s in surfaces
    )
    temp = prefix / "tmp"
    load = f"load_module {PERL_MODULE};\n" if perl else ""
    age = AGE if perl else ""
    return f"""# verify sandbox edge (CloudFront stand-in); generation {generation}
# faults: {",".join(sorted(faults))}
{load}{user}worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    server_tokens off;
    keepalive_timeout 30s;
    proxy_cache_path {prefix}/cache levels=1:2 keys_zone=edge:8m max_size=256m inactive=1d use_temp_path=off;
    map $upstream_cache_status $edge_x_cache {{
        HIT "Hit from cloudfront";
        STALE "Hit from cloudfront";
        REVALIDATED "RefreshHit from cloudfront";
        default "Miss from cloudfront";
    }}
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:edge_tls:1m;
{age}{servers}}}
"""


def _servers(
    s: SurfacePorts,
    tls: dict[str, str],
    faults: frozenset[str],
    generation: int,
    via: str,
    age: bool,
) -> str:
    age_header = "add_header age $edge_age always;" if age else "# no perl module: no age header"
    cert = tls["expiring"] if "tls-expiring" in faults else tls["cert"]
    # asset-missing: HTML from the previous release (what a stale edge still holds), assets from
    # the release; build-id-mismatch: the whole surface still on the previous release.
    html_origin = s.previous if faults & HTML_FAULTS else s.origin
    asset_origin = s.previous if "build-id-mismatch" in faults else s.origin
    if "https-redirect-missing" in faults:
        plain = f"location / {{ proxy_pass http://127.0.0.1:{s.origin}; }}"
    else:
        plain = f"location / {{ return 301 https://$host:{s.https}$request_uri; }}"
    return f"""
    # surface {s.name}
    server {{
        listen 127.0.0.1:{s.https} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {tls["key"]};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-Proto https;
        proxy_cache edge;
        # The upstream's address is part of the key: a release's origin has its own entries.
        proxy_cache_key "$proxy_host$request_uri";
        proxy_cache_valid 200 301 1d;
        proxy_cache_valid 404 10s;
        proxy_hide_header X-Powered-By;
        proxy_pass_header Date;
        add_header x-cache $edge_x_cache always;
        add_header via "1.1 {via}.cloudfront.net (CloudFront)" always;
        {age_header}
        add_header x-amz-cf-pop "LCL50-P1" always;
        add_header x-amz-cf-id $request_id always;
        add_header strict-transport-security "max-age=31536000; includeSubDomains" always;
        add_header x-content-type-options nosniff always;
        add_header x-frame-options SAMEORIGIN always;
        add_header referrer-policy strict-origin-when-cross-origin always;
        add_header x-verify-edge-generation {generation} always;
        location /_next/static/ {{ proxy_pass http://127.0.0.1:{asset_origin}; }}
        location / {{ proxy_pass http://127.0.0.1:{html_origin}; }}
    }}
    server {{
        listen 127.0.0.1:{s.http};
        add_header x-verify-edge-generation {generation} always;
        {plain}
    }}
"""
