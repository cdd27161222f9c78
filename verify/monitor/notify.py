"""Alert delivery to every configured channel: a webhook (URL from a secret reference), SNS."""

from __future__ import annotations

from typing import TYPE_CHECKING

from verify.deliver import DeliveryError
from verify.redact import REDACT

if TYPE_CHECKING:
    from verify.clients import AwsClients
    from verify.config import EnvConfig
    from verify.monitor.alerts import Event

WEBHOOK_TIMEOUT_S = 10.0


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
    from verify.deliver import post_json

    post_json(reference, event.to_json(), env, aws, WEBHOOK_TIMEOUT_S)


def _sns(event: Event, topic_arn: str, aws: AwsClients) -> None:
    from verify.deliver import publish_sns

    publish_sns(topic_arn, event.text(), event.to_json(), aws)
