"""Hook `sns`: publish the verdict's summary to a topic."""

from __future__ import annotations

from typing import TYPE_CHECKING

from verify.actions.base import Done, HookContext, HookError
from verify.actions.webhook import payload

if TYPE_CHECKING:
    from verify.actions.models import SnsHook


def publish(hook: SnsHook, ctx: HookContext) -> Done:
    from verify.deliver import DeliveryError, publish_sns

    if ctx.dry_run:
        return Done(f"would publish the {ctx.outcome} summary to {hook.topic_arn}")
    subject = f"verify {ctx.env.name}: {ctx.outcome.upper()}"
    try:
        message_id = publish_sns(hook.topic_arn, subject, payload(ctx), ctx.aws)
    except DeliveryError as exc:
        raise HookError(str(exc), f"tell the on-call by hand: {ctx.summary}") from None
    return Done(f"published to {hook.topic_arn} ({message_id})", True)
