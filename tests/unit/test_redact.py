"""Masking: known secret values and credential-shaped text, nothing else."""

from __future__ import annotations

import logging

import pytest

from verify.redact import REDACT, install_log_redaction
from verify.secrets import Secret


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("authorization: Bearer abcdefgh123", "authorization: Bearer ***"),
        (
            "{'X-Amz-Security-Token': b'FQoGZXIvYXdz', "
            "'Authorization': b'AWS4 Credential=AKIAIOSFODNN7EXAMPLE/2026'}",
            "{'X-Amz-Security-Token': b'***', 'Authorization': b'*** Credential=***/2026'}",
        ),
        ('{"password": "hunter22"}', '{"password": "***"}'),
        ("https://x.test/cb?token=abc&b=1", "https://x.test/cb?token=***&b=1"),
        ("redis://user:pw@host:1/0", "redis://***@host:1/0"),
        ("Cookie: session=abc", "Cookie: ***"),
        # Ordinary words next to a colon are no credentials.
        ("env:API_TOKEN: secret not found", "env:API_TOKEN: secret not found"),
        ("nextToken=abc", "nextToken=abc"),
    ],
)
def test_credential_shapes(text: str, masked: str) -> None:
    assert REDACT(text) == masked


def test_a_resolved_secret_is_masked_everywhere_and_never_printed() -> None:
    secret = Secret("env:T", "v3ry-s3cret-value")
    assert "v3ry" not in repr(secret) and "v3ry" not in str(secret)
    assert REDACT('echo "v3ry-s3cret-value"') == 'echo "***"'
    with pytest.raises(TypeError):
        __import__("pickle").dumps(secret)


def test_a_header_value_with_a_newline_is_refused_naming_the_reference() -> None:
    from verify.probes.errors import ProbeError

    secret = Secret("env:TOKEN", "abcdefgh\n")
    with pytest.raises(ProbeError) as raised:
        secret.header_value("Bearer ")
    assert str(raised.value) == (
        "env:TOKEN: value holds a control character (a trailing newline?); not sent as a header"
    )


def test_log_records_are_masked_as_they_are_made(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    Secret("env:L", "log-s3cret-1234")
    with caplog.at_level(logging.DEBUG, logger="botocore.endpoint"):
        logging.getLogger("botocore.endpoint").debug("sending %s", {"token": "log-s3cret-1234"})
    assert "log-s3cret-1234" not in caplog.text
