"""Secret references (`secretsmanager:NAME[#key]`, `ssm:NAME`, `env:VAR`), resolved on demand."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from verify.probes.errors import ProbeError
from verify.redact import MIN_SECRET_LENGTH, REDACT

if TYPE_CHECKING:
    from verify.clients import AwsClients
    from verify.config import EnvConfig


class Secret:
    """A resolved secret: its repr and str never show the value; it is handed out last moment."""

    __slots__ = ("_value", "reference")

    def __init__(self, reference: str, value: str) -> None:
        if len(value) < MIN_SECRET_LENGTH:
            # Too short to mask in output without masking ordinary words: refuse it.
            raise ProbeError(reference, f"value is shorter than {MIN_SECRET_LENGTH} characters")
        self.reference = reference
        self._value = value
        REDACT.add(value)

    def reveal(self) -> str:
        return self._value

    def header_value(self, prefix: str = "") -> str:
        """`prefix + value` for an HTTP header; a control character (a trailing newline from a
        mounted file) is refused rather than sent or echoed in an error."""
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in self._value):
            raise ProbeError(
                self.reference,
                "value holds a control character (a trailing newline?); not sent as a header",
            )
        return prefix + self._value

    def __repr__(self) -> str:
        return f"Secret({self.reference!r})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a Secret is not serialisable")


def resolve(reference: str, aws: AwsClients, *, env: EnvConfig | None = None) -> Secret:
    """Fetch the value `reference` points at; any failure is a ProbeError naming the reference only.

    Literal values are accepted only for the sandbox (`local`, or an environment with sandbox on).
    """
    scheme, _, name = reference.partition(":")
    if scheme == "env":
        if name not in os.environ:
            raise ProbeError(reference, f"environment variable {name} is not set")
        return Secret(reference, os.environ[name])
    if scheme == "ssm":
        return Secret(reference, _from_ssm(reference, name, aws))
    if scheme == "secretsmanager":
        return Secret(reference, _from_secretsmanager(reference, name, aws))
    if env is not None and (env.name == "local" or env.spec.sandbox):
        return Secret("literal", reference)
    raise ProbeError("secret", "not a secret reference (secretsmanager:, ssm:, env:)")


def _from_ssm(reference: str, name: str, aws: AwsClients) -> str:
    from verify.probes.aws.calls import aws_errors

    client = aws.client("ssm")
    try:
        with aws_errors(reference, client):
            answer = client.get_parameter(Name=name, WithDecryption=True)
    except ProbeError as error:
        if "ParameterNotFound" in error.cause:
            raise ProbeError(reference, "parameter not found") from None
        raise
    parameter = answer.get("Parameter", {})
    if parameter.get("Name") not in (name, None) and parameter.get("ARN") != name:
        raise ProbeError(reference, "the answer is about another parameter")
    return str(parameter.get("Value", ""))


def _from_secretsmanager(reference: str, name: str, aws: AwsClients) -> str:
    from verify.probes.aws.calls import aws_errors

    secret_id, _, key = name.partition("#")
    client = aws.client("secretsmanager")
    try:
        with aws_errors(reference, client):
            answer = client.get_secret_value(SecretId=secret_id)
    except ProbeError as error:
        if "ResourceNotFoundException" in error.cause:
            raise ProbeError(reference, "secret not found") from None
        raise
    if secret_id not in (answer.get("Name"), answer.get("ARN")):
        raise ProbeError(reference, "the answer is about another secret")
    value = str(answer.get("SecretString", ""))
    if not key:
        return value
    try:
        document = json.loads(value)
    except json.JSONDecodeError:
        raise ProbeError(reference, f"secret is not JSON, cannot read key {key!r}") from None
    if not isinstance(document, dict) or key not in document:
        raise ProbeError(reference, f"secret has no key {key!r}")
    return str(document[key])
