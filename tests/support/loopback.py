"""Names resolve on this machine only: the tests' traffic stays on loopback.

A lookup of any other name fails as an unresolvable host does, instead of asking the machine's
DNS server.
"""

from __future__ import annotations

import socket
from typing import Any

_real_getaddrinfo = socket.getaddrinfo
_LOCAL = {"localhost", "127.0.0.1", "::1"}


def _loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    if name is None or name in _LOCAL or str(name).startswith("127."):
        return _real_getaddrinfo(host, *args, **kwargs)
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def install() -> None:
    socket.getaddrinfo = _loopback_only


def uninstall() -> None:
    socket.getaddrinfo = _real_getaddrinfo
