"""A pytest plugin for subprocess runs: records every AWS call verify makes, with its parameters.

Loaded with `-p aws_recorder` (tests/support is on the subprocess's PYTHONPATH); writes one JSON
line per call (`service`, `operation`, `params`, `thread`) to $VERIFY_TEST_AWS_CALLS.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

_lock = threading.Lock()


def _record(model: Any = None, params: Any = None, **_: Any) -> None:
    path = os.environ["VERIFY_TEST_AWS_CALLS"]
    line = json.dumps(
        {
            "service": model.service_model.service_name,
            "operation": model.name,
            "params": params,
            "thread": threading.current_thread().name,  # verify-hook-*: a rollback hook's call
        },
        default=str,
    )
    with _lock, open(path, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def pytest_configure(config: Any) -> None:
    from verify.clients import AwsClients

    build = AwsClients._build_session

    def recording(self: AwsClients) -> Any:
        session = build(self)
        # Raw API parameters, before serialisation: what each call asked for.
        session.events.register("before-parameter-build", _record)
        return session

    AwsClients._build_session = recording  # type: ignore[method-assign]
