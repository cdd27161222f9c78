"""Which AWS protocol a request speaks, and real-shaped throttling / access-denied answers in it."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from verify.sandbox import spec

_SCOPE = re.compile(r"Credential=[^/,]+/\d{8}/[^/]+/([^/]+)/aws4_request")
# JSON services whose errors also carry the legacy query code (awsQueryCompatible).
_QUERY_COMPATIBLE = {"monitoring", "sqs"}
_IAM_PREFIX = {"monitoring": "cloudwatch", "elasticloadbalancing": "elasticloadbalancing"}


@dataclass(frozen=True)
class Call:
    """One AWS API call as the overlay sees it."""

    service: str  # SigV4 signing name: ecs, ec2, elasticloadbalancing, monitoring, ...
    operation: str
    protocol: str  # json | cbor | query | ec2 | rest
    content_type: str


def identify(path: str, headers: dict[str, str], body: bytes) -> Call:
    """Service (from the SigV4 scope), operation and protocol of a request."""
    lower = {k.lower(): v for k, v in headers.items()}
    scope = _SCOPE.search(lower.get("authorization", ""))
    service = scope.group(1) if scope else ""
    content_type = lower.get("content-type", "")
    target = lower.get("x-amz-target")
    if target:
        return Call(service, target.rsplit(".", 1)[-1], "json", content_type)
    if "smithy-protocol" in lower or "cbor" in content_type:
        return Call(service, path.rstrip("/").rsplit("/", 1)[-1], "cbor", content_type)
    if "x-www-form-urlencoded" in content_type:
        form = parse_qs(body.decode("utf-8", "replace"))
        action = form.get("Action", [""])[0]
        return Call(service, action, "ec2" if service == "ec2" else "query", content_type)
    return Call(service, "", "rest", content_type)


def error(call: Call, fault: str, detail: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of `fault` (aws-throttled | aws-access-denied) in the call's protocol."""
    # One code per fault across services (ThrottlingException; AccessDeniedException in JSON,
    # AccessDenied in XML) so every check names the same cause; botocore retries
    # ThrottlingException as throttling in every protocol.
    throttled = fault == "aws-throttled"
    iam = _IAM_PREFIX.get(call.service, call.service or "aws")
    action = f"{iam}:{call.operation or '*'}"
    status = 400 if throttled else 403
    message = detail or (
        "Rate exceeded"
        if throttled
        else f"User: arn:aws:sts::{spec.ACCOUNT_ID}:assumed-role/{spec.PREFIX}-verify/verify is "
        f"not authorized to perform: {action} because no identity-based policy allows the "
        f"{action} action"
    )
    request_id = str(uuid.uuid4())
    if call.protocol in ("json", "cbor"):
        code = "ThrottlingException" if throttled else "AccessDeniedException"
        headers = {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": f"{code}:"}
        if call.service in _QUERY_COMPATIBLE:
            # botocore takes the code of awsQueryCompatible services from this header.
            legacy = code if throttled else "AccessDenied"
            headers["x-amzn-query-error"] = f"{legacy};Sender"
        document = {"__type": code, "message": message}
        if call.protocol == "cbor":
            headers.update({"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"})
            return status, headers, _cbor(document)
        headers["Content-Type"] = call.content_type or "application/x-amz-json-1.1"
        return status, headers, json.dumps(document).encode()
    code = "ThrottlingException" if throttled else "AccessDenied"
    headers = {"x-amzn-RequestId": request_id, "Content-Type": "text/xml"}
    error = f"<Code>{code}</Code><Message>{escape(message)}</Message>"
    if call.protocol == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error>{error}</Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
    elif call.service == "s3":
        body = f"<Error>{error}<RequestId>{request_id}</RequestId></Error>"
    else:
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type>{error}</Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    return status, headers, body.encode()


def _cbor(document: dict[str, str]) -> bytes:
    """CBOR of a map of text strings (all an rpc-v2-cbor error needs)."""
    out = bytearray(_cbor_head(5, len(document)))
    for key, value in document.items():
        for text in (key, value):
            raw = text.encode()
            out += _cbor_head(3, len(raw)) + raw
    return bytes(out)


def _cbor_head(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([major << 5 | length])
    for info, size in ((24, 1), (25, 2), (26, 4)):
        if length < 1 << (8 * size):
            return bytes([major << 5 | info]) + length.to_bytes(size, "big")
    raise ValueError("CBOR item too long")
