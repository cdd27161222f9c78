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
    import httpx

    from verify.probes.errors import ProbeError
    from verify.secrets import resolve

    manual = f"tell the channel by hand: {ctx.summary}"
    if ctx.dry_run:
        return Done(
            f"would POST the {ctx.outcome} summary to the webhook ({hook.url.split(':')[0]}:...)"
        )
    try:
        url = resolve(hook.url, ctx.aws, env=ctx.env).reveal()
    except ProbeError as exc:
        raise HookError(f"webhook URL: {exc}", manual) from None
    from urllib.parse import urlsplit

    from verify.config import is_loopback

    parts = urlsplit(url)
    if parts.scheme != "https" and not (
        parts.scheme == "http" and (is_loopback(parts.hostname) or ctx.env.spec.allow_plain_http)
    ):
        # The URL is a credential: never over plain HTTP off this machine (fail closed).
        raise HookError(
            f"webhook URL ({hook.url}) is not https:// (set allow_plain_http to allow http://)",
            manual,
        )
    timeout = max(min(ctx.left(), hook.timeout_s), 0.1)
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            answer = client.post(url, json=payload(ctx))
    except httpx.HTTPError as exc:
        raise HookError(f"webhook POST failed: {type(exc).__name__}", manual) from None
    if not 200 <= answer.status_code < 300:
        raise HookError(f"webhook answered HTTP {answer.status_code}", manual)
    return Done(
        f"posted the {ctx.outcome} summary to the webhook (HTTP {answer.status_code})", True
    )
