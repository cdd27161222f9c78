"""What the demo API's /health asks of Redis: PING over TLS with the app's AUTH (see demo_api)."""

from __future__ import annotations

from typing import Any

TIMEOUT_S = 1.0


def check(config: dict[str, Any]) -> str:
    """ "ok", or raises (the API reports the error class and message, never the password)."""
    import redis

    client = redis.Redis(
        host="127.0.0.1",
        port=int(config["port"]),
        ssl=True,
        ssl_ca_certs=config["ca"],
        ssl_cert_reqs="required",
        username=config["username"],
        password=config["password"],
        socket_timeout=TIMEOUT_S,
        socket_connect_timeout=TIMEOUT_S,
    )
    try:
        client.ping()
    finally:
        client.close()
    return "ok"
