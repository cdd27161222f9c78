"""Hook `s3-asset-set`: point a surface back at the previous release's asset set.

Layout contract (README, "Deploy gate and rollback"): the surface's versioned bucket holds every
release's asset set, and one small pointer object (`pointer_key`, JSON `{"release": "<id>"}`)
names the live one; a deploy uploads its set first and writes the pointer last. The pointer's
version history is the deploy history: rolling back writes the content of the newest earlier
version that names another release as a new version.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from verify.actions.base import Done, HookContext, HookError, aws_error
from verify.actions.cloudfront import invalidate_paths

if TYPE_CHECKING:
    from verify.actions.models import S3AssetSetHook


def _release(body: bytes) -> str | None:
    try:
        value = json.loads(body).get("release")
    except (ValueError, AttributeError):
        return None
    return str(value) if value else None


def restore(hook: S3AssetSetHook, ctx: HookContext) -> Done:
    from botocore.exceptions import BotoCoreError, ClientError

    where = f"s3://{hook.bucket}/{hook.pointer_key}"
    manual = f"write the previous release's pointer to {where} by hand"
    s3 = ctx.aws.client("s3")
    try:
        current = s3.get_object(Bucket=hook.bucket, Key=hook.pointer_key)["Body"].read()
        live = _release(current)
        failing = ctx.release or live
        if live != failing:
            done = Done(f"{where} already names {live}, not the failing {failing}: nothing to do")
        else:
            done = _point_back(s3, hook, where, live, ctx)
    except (ClientError, BotoCoreError) as exc:
        raise HookError(f"S3 {where}: {aws_error(exc)}", manual) from None
    if hook.distribution_id and (done.changed or ctx.dry_run):
        invalidated = invalidate_paths(hook.distribution_id, hook.paths, ctx)
        return Done(f"{done.message}; {invalidated.message}", done.changed, done.details)
    return done


def _point_back(
    s3: Any, hook: S3AssetSetHook, where: str, live: str | None, ctx: HookContext
) -> Done:
    versions: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_object_versions").paginate(
        Bucket=hook.bucket, Prefix=hook.pointer_key
    ):
        versions += [v for v in page.get("Versions", []) if v["Key"] == hook.pointer_key]
    versions.sort(key=lambda v: v["LastModified"], reverse=True)
    for version in versions:
        body = s3.get_object(
            Bucket=hook.bucket, Key=hook.pointer_key, VersionId=version["VersionId"]
        )["Body"].read()
        previous = _release(body)
        if previous and previous != live:
            break
    else:
        raise HookError(
            f"{where}: no earlier version names a release other than {live}",
            f"upload the last good asset set and point {where} at it by hand",
        )
    details = {"from": live, "to": previous, "version_id": version["VersionId"]}
    if ctx.dry_run:
        return Done(f"would point {where} from {live} back to {previous}", False, details)
    s3.put_object(
        Bucket=hook.bucket,
        Key=hook.pointer_key,
        Body=body,
        ContentType="application/json",
        CacheControl="no-store",
    )
    return Done(f"{where}: {live} -> {previous}", True, details)
