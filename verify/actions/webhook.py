"""Hook `webhook`: POST a JSON summary (Slack-compatible `text`) to a URL held as a secret."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from verify.actions.base import Done, HookContext, HookError

if TYPE_CHECKING:
    from verify.actions.models import WebhookHook


def payload(ctx: HookContext) -> dict[str, Any]:
    """What webhook and SNS send: `text` for Slack, the verdict's facts for machines."""
    return {
        "text": ctx.summary,
        "env": ctx.env.name,
        "verdict": ctx.outcome,
        "reason": ctx.reason,
        "release": ctx.release,
        "hooks": [{"name": r.name, "status": r.status, "message": r.message} for r in ctx.previous],
    }


def post(hook: WebhookHook, ctx: HookContext) -> Done:
    from verify.deliver import DeliveryError, post_json

    if ctx.dry_run:
        return Done(
            f"would POST the {ctx.outcome} summary to the webhook ({hook.url.split(':')[0]}:...)"
        )
    try:
        status = post_json(
            hook.url, payload(ctx), ctx.env, ctx.aws, min(ctx.left(), hook.timeout_s)
        )
    except DeliveryError as exc:
        raise HookError(str(exc), f"tell the channel by hand: {ctx.summary}") from None
    return Done(f"posted the {ctx.outcome} summary to the webhook (HTTP {status})", True)
