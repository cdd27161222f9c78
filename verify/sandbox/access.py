"""boto3 clients on a running sandbox's AWS endpoint, carrying its token (tests, benchmarks)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from verify.sandbox.control import TOKEN_HEADER

if TYPE_CHECKING:
    from verify.sandbox.state import SandboxState


def aws_client(state: SandboxState, service: str, *, attempts: int = 1) -> Any:
    """A client of `service` through the overlay (fills and faults apply), no retries."""
    import boto3
    from botocore.config import Config

    session = boto3.Session(
        aws_access_key_id=state.access_key_id,
        aws_secret_access_key=state.secret_access_key,
        region_name=state.region,
    )

    def add_token(request: Any, **_: Any) -> None:
        request.headers[TOKEN_HEADER] = state.token

    session.events.register("before-send", add_token)
    # total_max_attempts=1: no retry at all (botocore's max_attempts=1 still retries once).
    config = Config(retries={"total_max_attempts": attempts}, connect_timeout=5, read_timeout=10)
    return session.client(service, endpoint_url=state.endpoints["aws"], config=config)  # type: ignore[call-overload]
