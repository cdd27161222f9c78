"""Hook `sns`: publish the verdict's summary to a topic."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from verify.actions.base import Done, HookContext, HookError, aws_error
from verify.actions.webhook import payload

if TYPE_CHECKING:
    from verify.actions.models import SnsHook


def publish(hook: SnsHook, ctx: HookContext) -> Done:
    from botocore.exceptions import BotoCoreError, ClientError

    if ctx.dry_run:
        return Done(f"would publish the {ctx.outcome} summary to {hook.topic_arn}")
    subject = f"verify {ctx.env.name}: {ctx.outcome.upper()}"[:100]
    try:
        answer = ctx.aws.client("sns").publish(
            TopicArn=hook.topic_arn, Subject=subject, Message=json.dumps(payload(ctx))
        )
    except (ClientError, BotoCoreError) as exc:
        raise HookError(
            f"SNS {hook.topic_arn}: {aws_error(exc)}", f"tell the on-call by hand: {ctx.summary}"
        ) from None
    return Done(f"published to {hook.topic_arn} ({answer['MessageId']})", True)
