"""moto inside the AWS process, with no port of its own: the overlay and the sandbox's own boto3
clients hand requests straight to its WSGI app.

Nobody else on the machine can reach moto's `/moto-api/` (its data dump holds every secret) or
reset it: the only door is the overlay, which checks the sandbox token and the Host header.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from verify.sandbox import spec

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_elbv2 import ElasticLoadBalancingv2Client
    from mypy_boto3_secretsmanager import SecretsManagerClient

# Never contacted: the sandbox's clients answer from the in-process app before any socket opens.
INTERNAL_ENDPOINT = "http://127.0.0.1:9"


class MotoApp:
    """moto's WSGI dispatcher, called in process."""

    def __init__(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self._app = DomainDispatcherApplication(create_backend_app)

    def call(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """(status, headers, body) of one request."""
        from werkzeug.test import EnvironBuilder, run_wsgi_app

        target = urlsplit(path)
        builder = EnvironBuilder(
            path=target.path or "/",
            query_string=target.query,
            method=method,
            headers=list(headers.items()),
            data=body,
        )
        environ = builder.get_environ()
        builder.close()
        app_iter, status, response_headers = run_wsgi_app(self._app, environ, buffered=True)
        payload = b"".join(app_iter)
        return int(status.split(" ", 1)[0]), list(response_headers.items()), payload

    def reset_transitions(self) -> None:
        """Keep moto's tasks RUNNING: by default each describe walks them a step towards STOPPED."""
        import json

        body = json.dumps(
            {"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1_000_000}}
        ).encode()
        status, _, _ = self.call(
            "POST",
            "/moto-api/state-manager/set-transition",
            {"Host": "moto_api", "Content-Type": "application/json"},
            body,
        )
        if status != 201 and status != 200:
            raise RuntimeError(f"moto set-transition answered {status}")


class _RawBody(io.BytesIO):
    """What botocore reads a response body from."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        chunk = self.read()
        while chunk:
            yield chunk
            chunk = self.read()


def _dispatcher(app: MotoApp) -> Any:
    def dispatch(request: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        target = urlsplit(request.url)
        path = target.path + (f"?{target.query}" if target.query else "")
        headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        body = request.body or b""
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode()
        status, response_headers, payload = app.call(request.method, path, headers, body)
        from botocore.awsrequest import HTTPHeaders

        answer_headers = HTTPHeaders()
        for name, value in response_headers:
            answer_headers[name] = value
        return AWSResponse(request.url, status, answer_headers, _RawBody(payload))

    return dispatch


@dataclass(frozen=True)
class Clients:
    """The sandbox's own clients: straight to moto, past the overlay's fills and faults."""

    ec2: EC2Client
    ecs: ECSClient
    elbv2: ElasticLoadBalancingv2Client
    cloudwatch: CloudWatchClient
    secretsmanager: SecretsManagerClient
    session: Any

    def client(self, service: str) -> Any:
        """Any other service (rds, cloudfront, s3, ...), the same way."""
        return make_client(self.session, service)


def make_client(session: Any, service: str) -> Any:
    from botocore.config import Config

    config = Config(
        retries={"total_max_attempts": 1},
        connect_timeout=5,
        read_timeout=30,
        s3={"addressing_style": "path"},
    )
    return session.client(service, endpoint_url=INTERNAL_ENDPOINT, config=config)


def make_clients(app: MotoApp) -> Clients:
    """Clients whose every request is answered by `app` in process (a single attempt each)."""
    import boto3

    session = boto3.Session(
        aws_access_key_id="sandbox-internal",
        aws_secret_access_key="sandbox-internal",
        region_name=spec.REGION,
    )
    session.events.register("before-send", _dispatcher(app))
    return Clients(
        ec2=make_client(session, "ec2"),
        ecs=make_client(session, "ecs"),
        elbv2=make_client(session, "elbv2"),
        cloudwatch=make_client(session, "cloudwatch"),
        secretsmanager=make_client(session, "secretsmanager"),
        session=session,
    )
