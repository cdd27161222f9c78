"""botocore clients under Stubber, for the fields and APIs moto lacks (real-shaped answers)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import botocore.session
from botocore.stub import Stubber

REGION = "eu-west-1"
ACCOUNT = "123456789012"
_SESSION = botocore.session.get_session()


def stubbed(service: str) -> Iterator[tuple[Any, Stubber]]:
    """A client of `service` and its active Stubber; every queued answer must be used."""
    client = _SESSION.create_client(
        service, region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()
