"""Telling people: POST JSON to a webhook whose URL is a secret, publish to an SNS topic.

Used by the rollback hooks (`webhook`, `sns`) and by `verify monitor`'s alerts. Errors are one
line that names the secret reference, never the URL it holds.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from verify.redact import REDACT
from verify.text import one_line

if TYPE_CHECKING:
    from verify.clients import AwsClients
    from verify.config import EnvConfig


class DeliveryError(Exception):
    """A message could not be delivered (one line; never the webhook URL)."""


def post_json(
    reference: str, body: dict[str, Any], env: EnvConfig, aws: AwsClients, timeout_s: float
) -> int:
    """POST `body` to the URL behind `reference`; its HTTP status (2xx), else DeliveryError."""
    from urllib.parse import urlsplit

    import httpx

    from verify.config import is_loopback
    from verify.probes.errors import ProbeError
    from verify.secrets import resolve

    try:
        url = resolve(reference, aws, env=env).reveal()
    except ProbeError as exc:
        raise DeliveryError(f"webhook URL: {one_line(str(exc))}") from None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise DeliveryError(f"webhook URL ({reference}) is not an http(s) URL")
    if parts.scheme == "http" and not is_loopback(parts.hostname) and not env.spec.allow_plain_http:
        # The URL is a credential: never over plain HTTP off this machine (fail closed).
        raise DeliveryError(
            f"webhook URL ({reference}) is not https:// but plain http:// to another host "
            "(set allow_plain_http to allow it)"
        )
    try:
        with httpx.Client(
            timeout=max(timeout_s, 0.1), follow_redirects=False, trust_env=False
        ) as client:
            answer = client.post(url, content=json.dumps(body).encode(), headers=_JSON)
    except httpx.HTTPError as exc:
        # httpx names the URL in some errors: say only the kind, and mask whatever remains.
        raise DeliveryError(
            REDACT(f"webhook POST to {reference} failed: {type(exc).__name__}")
        ) from None
    if not 200 <= answer.status_code < 300:
        raise DeliveryError(f"webhook ({reference}) answered HTTP {answer.status_code}")
    return answer.status_code


_JSON = {"content-type": "application/json"}


def publish_sns(topic_arn: str, subject: str, body: dict[str, Any], aws: AwsClients) -> str:
    """Publish `body` as JSON to the topic; the message id, else DeliveryError."""
    from botocore.exceptions import BotoCoreError, ClientError

    sns: Any = aws.client("sns")
    try:
        answer = sns.publish(TopicArn=topic_arn, Subject=subject[:100], Message=json.dumps(body))
    except (ClientError, BotoCoreError) as exc:
        raise DeliveryError(f"SNS {topic_arn}: {aws_error(exc)}") from None
    return str(answer["MessageId"])


def aws_error(exc: BaseException) -> str:
    """A botocore error in one line: the code and message AWS gave."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        return f"{error.get('Code', type(exc).__name__)}: {error.get('Message', '')}".strip()
    return one_line(f"{type(exc).__name__}: {exc}")
