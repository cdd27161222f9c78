"""Secret references (`secretsmanager:NAME[#key]`, `ssm:NAME`, `env:VAR`), resolved on demand."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from verify.probes.errors import ProbeError

if TYPE_CHECKING:
    from verify.clients import AwsClients


class Secret:
    """A resolved secret: its repr and str never show the value."""

    __slots__ = ("_value", "reference")

    def __init__(self, reference: str, value: str) -> None:
        self.reference = reference
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.reference!r})"

    __str__ = __repr__


def resolve(reference: str, aws: AwsClients, *, allow_literal: bool = False) -> Secret:
    """Fetch the value `reference` points at; any failure is a ProbeError naming the reference only."""
    scheme, _, name = reference.partition(":")
    if scheme == "env":
        if name not in os.environ:
            raise ProbeError(reference, f"environment variable {name} is not set")
        return Secret(reference, os.environ[name])
    if scheme == "ssm":
        return Secret(reference, _from_ssm(reference, name, aws))
    if scheme == "secretsmanager":
        return Secret(reference, _from_secretsmanager(reference, name, aws))
    if allow_literal:
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
    return str(answer["Parameter"]["Value"])


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
