"""Alert delivery: a webhook (URL from a secret reference) and an SNS topic."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from verify.redact import REDACT
from verify.text import one_line

if TYPE_CHECKING:
    from verify.clients import AwsClients
    from verify.config import EnvConfig
    from verify.monitor.alerts import Event

WEBHOOK_TIMEOUT_S = 10.0


class DeliveryError(Exception):
    """An alert could not be delivered (one line; never the webhook URL)."""


def send(event: Event, env: EnvConfig, aws: AwsClients) -> list[str]:
    """Deliver `event` to every configured channel; returns the channels that took it.

    Raises DeliveryError when a configured channel refused it (the caller retries next iteration).
    """
    alerts = env.spec.monitor.alerts
    delivered: list[str] = []
    problems: list[str] = []
    if alerts.webhook:
        try:
            _webhook(event, alerts.webhook, env, aws)
            delivered.append("webhook")
        except DeliveryError as exc:
            problems.append(f"webhook: {exc}")
    if alerts.sns_topic_arn:
        try:
            _sns(event, alerts.sns_topic_arn, aws)
            delivered.append("sns")
        except DeliveryError as exc:
            problems.append(f"sns: {exc}")
    if problems:
        raise DeliveryError(REDACT("; ".join(problems)))
    return delivered


def _webhook(event: Event, reference: str, env: EnvConfig, aws: AwsClients) -> None:
    from urllib.parse import urlsplit

    import httpx

    from verify.config import is_loopback
    from verify.probes.errors import ProbeError
    from verify.secrets import resolve

    try:
        url = resolve(reference, aws, env=env).reveal()
    except ProbeError as exc:
        raise DeliveryError(one_line(str(exc))) from None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise DeliveryError(f"{reference} is not an http(s) URL")
    if parts.scheme == "http" and not is_loopback(parts.hostname) and not env.spec.allow_plain_http:
        raise DeliveryError(f"{reference} is plain http:// to another host; use https")
    body = json.dumps(event.to_json()).encode()
    try:
        with httpx.Client(timeout=WEBHOOK_TIMEOUT_S, trust_env=False) as client:
            answer = client.post(url, content=body, headers={"content-type": "application/json"})
    except httpx.HTTPError as exc:
        # httpx names the URL in some errors: say only the kind, and mask whatever remains.
        raise DeliveryError(REDACT(f"{type(exc).__name__} posting to {reference}")) from None
    if answer.status_code >= 300:
        raise DeliveryError(f"{reference} answered HTTP {answer.status_code}")


def _sns(event: Event, topic_arn: str, aws: AwsClients) -> None:
    from verify.probes.aws.calls import aws_errors
    from verify.probes.errors import ProbeError

    sns: Any = aws.client("sns")
    try:
        with aws_errors(f"sns:Publish {topic_arn}", sns):
            sns.publish(
                TopicArn=topic_arn,
                Subject=event.text()[:100],
                Message=json.dumps(event.to_json()),
            )
    except ProbeError as exc:
        raise DeliveryError(one_line(str(exc))) from None
