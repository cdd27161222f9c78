"""What the demo API's /health asks of Redis: AUTH with the app's password, then PING, over TLS.

The connection is kept between requests (a TLS handshake per /health would cost more than the
API's latency budget on a loaded machine); AUTH is sent every time so a password that no
longer matches shows at once, as it would on the app's next reconnect.
"""

from __future__ import annotations

import threading
from typing import Any

TIMEOUT_S = 1.0
_LOCK = threading.Lock()
_CLIENTS: dict[tuple[int, str], Any] = {}


def check(config: dict[str, Any]) -> str:
    """ "ok", or raises (the API reports the error class and message, never the password)."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    key = (int(config["port"]), str(config["username"]))
    with _LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            client = _CLIENTS[key] = redis.Redis(
                host="127.0.0.1",
                port=key[0],
                ssl=True,
                ssl_ca_certs=config["ca"],
                ssl_cert_reqs="required",
                username=config["username"],
                password=config["password"],
                socket_timeout=TIMEOUT_S,
                socket_connect_timeout=TIMEOUT_S,
                single_connection_client=True,
                retry=Retry(NoBackoff(), 0),  # a refused password is the answer: no retries
            )
        try:
            client.execute_command("AUTH", config["username"], config["password"])
            client.ping()
        except redis.ConnectionError:
            client.close()  # reconnect on the next request
            raise
    return "ok"
