"""The one exception a probe raises when it cannot observe, and URL redaction for its messages."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from verify.text import one_line

REDACTED = "***"

# Query parameters that commonly carry credentials (presigned URLs, API keys, tokens).
_SECRET_QUERY_KEY = re.compile(
    r"token|secret|passw(or)?d|pwd|api[-_]?key|^key$|signature|^sig$|credential|auth|session",
    re.IGNORECASE,
)


class ProbeError(Exception):
    """A probe could not observe its target (timeout, refused, auth, throttled, bad secret).

    `target` names what was probed (a URL, `ecs:describe_services cluster=...`), `cause` says why in
    one line. Neither ever holds a secret.
    """

    def __init__(self, target: str, cause: str) -> None:
        from verify.redact import REDACT

        target, cause = one_line(REDACT(target), 300), one_line(REDACT(cause), 600)
        super().__init__(f"{target}: {cause}")
        self.target = target
        self.cause = cause


def redact_url(url: str) -> str:
    """`url` with userinfo and credential-like query values replaced by `***`."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a malformed port
    except ValueError:
        return _cut_userinfo(url)
    if "@" in url and not parts.netloc:  # e.g. "user:pw@host" with no scheme
        return _cut_userinfo(url)
    netloc = parts.netloc
    if "@" in netloc:
        host = parts.hostname or ""
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        netloc = f"{REDACTED}@{host}" + (f":{port}" if port is not None else "")
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_SECRET_QUERY_KEY.search(key) for key, _ in pairs):
            query = urlencode(
                [
                    (key, REDACTED if _SECRET_QUERY_KEY.search(key) else value)
                    for key, value in pairs
                ],
                safe="*/:",
            )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _cut_userinfo(url: str) -> str:
    """For a URL the parser cannot read: drop everything between the scheme and the last '@'."""
    if "@" not in url:
        return url
    scheme, separator, _ = url.partition("://")
    return (scheme + separator if separator else "") + REDACTED + url[url.rindex("@") :]
