"""The edge part's AWS side, loaded into the AWS process: S3 asset buckets and CloudFront state.

Seed: a versioned bucket per surface (`<surface>-static-assets-local`) holding the previous and
the current release's `/_next/static` sets, as a deploy's upload leaves them. The distributions
and their `/*` invalidations are created by the part through the overlay (it needs their ids for
its endpoints). moto reports every distribution `Deployed` and every invalidation completed;
the faults make the support distribution report what AWS says while a change is still
propagating: `InProgress`.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verify.sandbox import spec
from verify.sandbox.awsext import OverlayRequest, SimpleExtension
from verify.sandbox.deploys import put_pointer

if TYPE_CHECKING:
    from verify.sandbox.world import World

NAME = "edge"
FAULTS = frozenset({"cloudfront-in-progress", "invalidation-pending"})
API_VERSION = "/2020-05-31"
_SEEDED: dict[str, Any] = {}  # what on_seed learnt: distribution ids, the faulty surface


def bucket_of(surface: str) -> str:
    return f"{surface}-static-assets-{spec.PREFIX.rsplit('-', 1)[-1]}"


def seed(world: World, config: dict[str, Any]) -> None:
    """Versioned asset buckets with both releases' assets (the previous release uploaded first)."""
    from verify.sandbox.parts.frontends import SURFACE

    _SEEDED.update(distributions=dict(config.get("distributions", {})), surface=SURFACE)
    s3 = world.clients.client("s3")
    for surface, releases in config.get("assets", {}).items():
        bucket = bucket_of(surface)
        s3.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": spec.REGION}
        )
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        for release, static_dir in releases.items():
            root = Path(static_dir)
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                s3.put_object(
                    Bucket=bucket,
                    Key=f"_next/static/{path.relative_to(root).as_posix()}",
                    Body=path.read_bytes(),
                    ContentType=content_type,
                    CacheControl="public, max-age=31536000, immutable",
                    Metadata={"release": release},
                )
            put_pointer(s3, bucket, release)  # the deploy's last step: this set is live


def fill_cloudfront(world: World, request: OverlayRequest, payload: bytes) -> bytes:
    """What AWS reports for the faulty surface's distribution while a fault is active."""
    active = world.ext_active.get(NAME, frozenset())
    distribution = _SEEDED.get("distributions", {}).get(_SEEDED.get("surface", ""))
    if request.method != "GET" or not active or distribution is None:
        return payload
    path = request.path.split("?", 1)[0].rstrip("/")
    text = payload.decode("utf-8")
    if "cloudfront-in-progress" in active:
        if path == f"{API_VERSION}/distribution":
            text = re.sub(
                r"<DistributionSummary>.*?</DistributionSummary>",
                lambda m: (
                    _in_progress(m.group(0), "Deployed")
                    if f"<Id>{distribution}</Id>" in m.group(0)
                    else m.group(0)
                ),
                text,
                flags=re.DOTALL,
            )
        elif path == f"{API_VERSION}/distribution/{distribution}":
            text = _in_progress(text, "Deployed")
    if "invalidation-pending" in active and path.startswith(
        f"{API_VERSION}/distribution/{distribution}/invalidation"
    ):
        # moto before 5.2 said COMPLETED, later versions say Completed as AWS does.
        text = _in_progress(_in_progress(text, "COMPLETED"), "Completed")
    return text.encode("utf-8")


def _in_progress(xml: str, status: str) -> str:
    return xml.replace(f"<Status>{status}</Status>", "<Status>InProgress</Status>")


def reconcile(world: World, active: frozenset[str]) -> None:
    """Nothing to change in moto: the fill reads the active faults on every answer."""


EXTENSION = SimpleExtension(
    name=NAME,
    faults=FAULTS,
    fills={("cloudfront", ""): fill_cloudfront},
    on_seed=seed,
    on_reconcile=reconcile,
)
