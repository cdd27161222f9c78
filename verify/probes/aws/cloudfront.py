"""CloudFront: each distribution's Status and Enabled (one ListDistributions for all of them) and
its latest invalidation's status.

Status words differ in case between AWS (`Completed`) and moto (`COMPLETED`): callers compare
them case-insensitively.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from verify.probes.aws.calls import DEFAULT_MAX_WORKERS, aws_errors, call_pool


@dataclass(frozen=True)
class Invalidation:
    id: str
    status: str
    created: datetime | None


@dataclass(frozen=True)
class Distribution:
    """One distribution as CloudFront reports it; `missing` when it does not exist."""

    id: str
    status: str | None
    enabled: bool | None
    domain: str | None
    latest_invalidation: Invalidation | None
    invalidations_seen: int
    missing: str | None = None


def observe_distributions(
    client: Any, ids: Mapping[str, str], max_workers: int = DEFAULT_MAX_WORKERS
) -> dict[str, Distribution]:
    """{name: Distribution} for `ids` ({name: distribution id})."""
    found: dict[str, dict[str, Any]] = {}
    with aws_errors("cloudfront:ListDistributions", client):
        pages = list(client.get_paginator("list_distributions").paginate())
    for page in pages:
        for item in page.get("DistributionList", {}).get("Items", []) or []:
            found[item["Id"]] = item
    wanted = {name: dist_id for name, dist_id in ids.items() if dist_id in found}
    with call_pool(max_workers) as pool:
        futures = {
            name: pool.submit(_latest_invalidation, client, dist_id)
            for name, dist_id in wanted.items()
        }
        latest = {name: future.result() for name, future in futures.items()}
    result: dict[str, Distribution] = {}
    for name, dist_id in ids.items():
        item = found.get(dist_id)
        if item is None:
            result[name] = Distribution(
                dist_id, None, None, None, None, 0, missing=f"distribution {dist_id} not found"
            )
            continue
        invalidation, seen = latest[name]
        result[name] = Distribution(
            id=dist_id,
            status=item.get("Status"),
            enabled=item.get("Enabled"),
            domain=item.get("DomainName"),
            latest_invalidation=invalidation,
            invalidations_seen=seen,
        )
    return result


def _latest_invalidation(client: Any, dist_id: str) -> tuple[Invalidation | None, int]:
    """The newest invalidation of the first page (CloudFront lists newest first; we sort anyway)."""
    with aws_errors(f"cloudfront:ListInvalidations distribution={dist_id}", client):
        answer = client.list_invalidations(DistributionId=dist_id, MaxItems="100")
    items = answer.get("InvalidationList", {}).get("Items", []) or []
    if not items:
        return None, 0
    newest = max(items, key=lambda i: i.get("CreateTime") or datetime.min)
    return Invalidation(newest["Id"], newest.get("Status", ""), newest.get("CreateTime")), len(
        items
    )
