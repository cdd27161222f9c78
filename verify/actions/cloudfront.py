"""Hook `cloudfront-invalidate`: invalidate paths and wait (<= 2 s polls) until Completed."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from verify.actions.base import Done, HookContext, HookError, aws_error

if TYPE_CHECKING:
    from verify.actions.models import CloudFrontHook


def invalidate(hook: CloudFrontHook, ctx: HookContext) -> Done:
    return invalidate_paths(hook.distribution_id, hook.paths, ctx)


def invalidate_paths(distribution_id: str, paths: list[str], ctx: HookContext) -> Done:
    """Create the invalidation, then wait for it within the hook's time."""
    from botocore.exceptions import BotoCoreError, ClientError

    shown = ", ".join(paths[:5]) + (", ..." if len(paths) > 5 else "")
    if ctx.dry_run:
        return Done(f"would invalidate {shown} on {distribution_id}")
    cloudfront = ctx.aws.client("cloudfront")
    manual = f"invalidate {shown} on distribution {distribution_id} by hand"
    try:
        created = cloudfront.create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": len(paths), "Items": paths},
                "CallerReference": f"verify-rollback-{uuid.uuid4()}",
            },
        )["Invalidation"]
        while str(created.get("Status", "")).lower() != "completed":  # moto says COMPLETED
            if ctx.left() <= 0:
                raise HookError(
                    f"invalidation {created['Id']} on {distribution_id} still "
                    f"{created.get('Status')} at the hook's timeout",
                    f"watch invalidation {created['Id']} until it completes",
                )
            ctx.sleep(ctx.poll_s)
            created = cloudfront.get_invalidation(DistributionId=distribution_id, Id=created["Id"])[
                "Invalidation"
            ]
    except (ClientError, BotoCoreError) as exc:
        raise HookError(f"CloudFront {distribution_id}: {aws_error(exc)}", manual) from None
    return Done(
        f"invalidated {shown} on {distribution_id} ({created['Id']} Completed)",
        True,
        {"invalidation_id": created["Id"]},
    )
