"""TLS probe: the certificate a host serves (verified against the trust store or a CA bundle),
its days left and the protocol version negotiated, with the ssl module."""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from verify.probes.errors import ProbeError
from verify.text import one_line

PROTOCOLS = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")


@dataclass(frozen=True)
class TlsObservation:
    """`valid` False with `error` when the certificate was rejected; `unreachable` when refused."""

    host: str
    port: int
    valid: bool
    error: str | None
    protocol: str | None
    not_after: datetime | None
    days_left: float | None
    subject: str | None
    issuer: str | None
    unreachable: str | None = None

    def line(self) -> str:
        if self.unreachable:
            return f"TLS {self.host}:{self.port}: {self.unreachable}"
        if not self.valid:
            return f"TLS {self.host}:{self.port}: certificate rejected ({self.error})"
        return (
            f"TLS {self.host}:{self.port}: {self.protocol}, certificate {self.subject} by "
            f"{self.issuer}, valid until {self.not_after:%Y-%m-%d %H:%M} UTC ({self.days_left:.1f} days)"
        )


def context_for(ca_bundle: str | None, verify: bool = True) -> ssl.SSLContext:
    """The default context (TLS >= 1.2), trusting `ca_bundle` instead of the system store if given."""
    try:
        context = ssl.create_default_context(cafile=ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        raise ProbeError(f"ca_bundle {ca_bundle}", f"cannot load: {one_line(str(exc))}") from None
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def protocol_at_least(protocol: str | None, minimum: str) -> bool:
    return protocol in PROTOCOLS and PROTOCOLS.index(protocol) >= PROTOCOLS.index(minimum)


def _name(parts: tuple[tuple[tuple[str, str], ...], ...] | None) -> str | None:
    for rdn in parts or ():
        for key, value in rdn:
            if key == "commonName":
                return value
    return None


def observe(host: str, port: int, context: ssl.SSLContext, timeout_s: float) -> TlsObservation:
    """Handshake with `host:port`: the certificate's validity and days left, the protocol."""
    deadline = time.monotonic() + timeout_s
    target = f"{host}:{port}"
    try:
        raw = socket.create_connection((host, port), timeout=timeout_s)
    except ConnectionRefusedError:
        return TlsObservation(
            host, port, False, None, None, None, None, None, None, "connection refused"
        )
    except socket.gaierror:
        raise ProbeError(target, f"cannot resolve host {host}") from None
    except TimeoutError:
        raise ProbeError(target, f"no TCP connection within {timeout_s:g} s") from None
    except OSError as exc:
        raise ProbeError(target, f"cannot connect: {one_line(exc.strerror or str(exc))}") from None
    with raw:
        raw.settimeout(max(deadline - time.monotonic(), 0.05))
        try:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                cert = tls.getpeercert() or {}
                protocol = tls.version()
        except ssl.SSLCertVerificationError as exc:
            reason = one_line(exc.verify_message or exc.reason or str(exc), 200)
            return TlsObservation(host, port, False, reason, None, None, None, None, None)
        except ssl.SSLError as exc:
            reason = f"handshake failed: {one_line(exc.reason or str(exc), 200)}"
            return TlsObservation(host, port, False, reason, None, None, None, None, None)
        except TimeoutError:
            raise ProbeError(target, f"no TLS handshake within {timeout_s:g} s") from None
        except ConnectionResetError:
            return TlsObservation(
                host, port, False, None, None, None, None, None, None, "connection reset"
            )
    not_after = None
    if cert.get("notAfter"):
        not_after = datetime.fromtimestamp(ssl.cert_time_to_seconds(str(cert["notAfter"])), UTC)
    days_left = (not_after - datetime.now(UTC)).total_seconds() / 86400 if not_after else None
    return TlsObservation(
        host=host,
        port=port,
        valid=True,
        error=None,
        protocol=protocol,
        not_after=not_after,
        days_left=days_left,
        subject=_name(cert.get("subject")),  # type: ignore[arg-type]
        issuer=_name(cert.get("issuer")),  # type: ignore[arg-type]
    )
