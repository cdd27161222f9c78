"""Secrets never reach output: every resolved secret value and credential-shaped text is masked.

One process-wide redactor knows every secret value this run resolved (and the AWS credentials
it signs with); the writers of every output (terminal blocks, verdict.json, JUnit, step summary,
Allure attachments, log records) pass their text through it. Patterns catch what no value list
can: an `Authorization` header a server echoes back, a SigV4 `Credential=`, a bearer token.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from typing import Any

MASK = "***"
# Values shorter than this would mask ordinary words; such "secrets" are refused where they are
# resolved (see verify.secrets), so none is ever skipped here silently.
MIN_SECRET_LENGTH = 4
_PATTERNS = (
    # Headers as printed by HTTP libraries: `authorization: Bearer x`, `'X-Amz-Security-Token': b'x'`
    re.compile(
        r"(?i)(?<![\w-])(authorization|proxy-authorization|x-amz-security-token|x-api-key|cookie"
        r"|set-cookie)(['\"]?\s*[:=]\s*(?:b?['\"])?)((?:bearer|basic)\s+)?([^\s\"',;}&]+)"
    ),
    # JSON and query forms of credential fields: `"password": "x"`, `token=x`
    re.compile(
        r"(?i)(?<![\w-])(['\"]?(?:password|passwd|secret|client_secret|token|access_token"
        r"|api_?key)['\"]?)(\s*=\s*|(?<=['\"])\s*:\s*['\"])()([^\s\"',;}&]+)"
    ),
    re.compile(r"(?i)\b(bearer|basic)(\s+)()([A-Za-z0-9._~+/=-]{6,})"),
    re.compile(r"(Credential=)()()([A-Z0-9]{8,})"),
    re.compile(r"(://)()()([^/\s:@]*:[^/\s@]*)(?=@)"),  # user:password@ in URLs
)


class Redactor:
    """Masks known secret values and credential-shaped text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: tuple[str, ...] = ()

    def add(self, *values: str | None) -> None:
        """Remember values to mask from now on (their JSON-escaped forms too)."""
        fresh = set()
        for value in values:
            if value and len(value) >= MIN_SECRET_LENGTH:
                fresh.add(value)
                escaped = json.dumps(value)[1:-1]
                if escaped != value:
                    fresh.add(escaped)
        with self._lock:
            # Longest first, so a value containing another is masked whole.
            merged = set(self._values) | fresh
            self._values = tuple(sorted(merged, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, MASK)
        for pattern in _PATTERNS:
            text = pattern.sub(_mask_match, text)
        return text

    def deep(self, value: Any) -> Any:
        """`value` with every string inside masked (dicts, lists, tuples)."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {self.deep(k): self.deep(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.deep(v) for v in value]
        return value

    def reset(self) -> None:
        with self._lock:
            self._values = ()


def _mask_match(match: re.Match[str]) -> str:
    name, separator, scheme, _ = match.groups()
    return f"{name}{separator}{scheme or ''}{MASK}"


REDACT = Redactor()
_installed = False


def install_log_redaction() -> None:
    """Mask every log record as it is created (botocore at DEBUG logs signed headers)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own error path
            return record
        record.msg, record.args = REDACT(message), ()
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
