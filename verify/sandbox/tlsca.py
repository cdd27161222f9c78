"""The sandbox's certificate authority and the server certificates it signs for 127.0.0.1.

One CA per sandbox part that serves TLS (Redis, the edge): clients trust its `ca` file, as they
would trust a private CA in front of ElastiCache or CloudFront's certificates.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

CA_VALID_DAYS = 365


@dataclass(frozen=True)
class TlsFiles:
    ca: Path  # what clients trust (the `tls_ca_file` / `ca_bundle` of the local environment)
    cert: Path  # the server certificate (its chain: certificate, then the CA)
    key: Path


class Authority:
    """A fresh CA whose key never leaves the process; it signs server certificates."""

    def __init__(self) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        self.now = datetime.now(UTC) - timedelta(minutes=5)
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "verify sandbox CA")])
        usage = x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True,
            crl_sign=True, encipher_only=False, decipher_only=False,
        )  # fmt: skip
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(self._name)
            .issuer_name(self._name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now)
            .not_valid_after(self.now + timedelta(days=CA_VALID_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False
            )
            .sign(self._key, hashes.SHA256())
        )
        self.server_key = ec.generate_private_key(ec.SECP256R1())
        self._hashes: Any = hashes

    def pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def server_chain(self, days: float) -> bytes:
        """A certificate for localhost and 127.0.0.1 valid `days` from now, then the CA (PEM)."""
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(self._name)
            .public_key(self.server_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now)
            .not_valid_after(datetime.now(UTC) + timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                critical=False,
            )
            .sign(self._key, self._hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.PEM) + self.pem()

    def write_key(self, path: Path) -> None:
        """The server key, readable by the owner only."""
        from cryptography.hazmat.primitives import serialization

        data = self.server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)


def make(directory: Path, name: str = "server", days: float = 7) -> TlsFiles:
    """A fresh CA and one server certificate (SAN 127.0.0.1, localhost) in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    authority = Authority()
    files = TlsFiles(directory / "ca.crt", directory / f"{name}.crt", directory / f"{name}.key")
    files.ca.write_bytes(authority.pem())
    files.cert.write_bytes(authority.server_chain(days))
    authority.write_key(files.key)
    return files
