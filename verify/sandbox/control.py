"""Client of the overlay's /_sandbox/ control endpoint (used by up, break, heal and status)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from verify.sandbox.errors import SandboxError

TOKEN_HEADER = "x-verify-sandbox-token"
# Loopback only: never let an environment proxy setting reroute control calls.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call(
    aws_endpoint: str,
    path: str,
    token: str,
    body: dict[str, Any] | None = None,
    timeout: float = 60,
) -> dict[str, Any]:
    """GET (no body) or POST `path` on the overlay; the decoded JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{aws_endpoint}/_sandbox/{path}",
        data=data,
        method="GET" if data is None else "POST",
        headers={"Content-Type": "application/json", TOKEN_HEADER: token},
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            answer: dict[str, Any] = json.loads(response.read())
            return answer
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read()).get("error", exc.reason)
        except ValueError:
            detail = exc.reason
        raise SandboxError(f"sandbox control {path} failed: {detail}") from None
    except OSError as exc:
        raise SandboxError(f"sandbox AWS endpoint {aws_endpoint} not answering: {exc}") from None
