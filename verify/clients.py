"""Session-wide clients: one boto3 session per run (standard credential chain), httpx clients."""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

from verify.redact import REDACT

if TYPE_CHECKING:
    import boto3
    import httpx

    from verify.config import EnvConfig
    from verify.context import Deadline

SANDBOX_TOKEN_HEADER = "x-verify-sandbox-token"
USER_AGENT = "mobilytics-verify"


class AwsClients:
    """Lazily built, thread-safe boto3 clients for one environment; counts API calls.

    Credentials come from boto3's chain (env vars, profiles, SSO, aws-vault, web identity/OIDC);
    `aws.profile` and `aws.role_arn` narrow it. Retries are botocore's standard mode. Once the run
    deadline has passed no call, retry or page is sent (`before-send`), and every credential the
    session signs with is masked in any output.
    """

    def __init__(
        self,
        env: EnvConfig,
        *,
        deadline: Deadline | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        sandbox_token: str | None = None,
    ) -> None:
        self._env = env
        self._deadline = deadline
        self._keys = (access_key_id, secret_access_key)
        self._sandbox_token = sandbox_token
        self._lock = threading.Lock()
        self._session: boto3.Session | None = None
        self._clients: dict[str, Any] = {}
        self.calls: Counter[str] = Counter()  # "ecs.DescribeServices" -> n (retries not counted)
        self.attempts = 0  # HTTP requests sent, retries included

    def _count_call(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls[f"{model.service_model.endpoint_prefix}.{model.name}"] += 1

    def _before_send(self, request: Any, **_: Any) -> None:
        if self._deadline is not None:
            self._deadline.cap(1.0, "aws")  # raises DeadlineExceeded once the deadline passed
        if self._sandbox_token is not None:
            request.headers[SANDBOX_TOKEN_HEADER] = self._sandbox_token
        with self._lock:
            self.attempts += 1

    def _build_session(self) -> boto3.Session:
        import boto3

        aws = self._env.spec.aws
        key_id, secret = self._keys
        REDACT.add(key_id, secret)
        session = boto3.Session(
            profile_name=aws.profile,
            region_name=self._env.region,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
        )
        if aws.role_arn:
            session = self._assume_role(session, aws.role_arn)
        _mask_credentials(session)
        session.events.register("before-call", self._count_call)
        session.events.register("before-send", self._before_send)
        return session

    def _assume_role(self, session: boto3.Session, role_arn: str) -> boto3.Session:
        """One STS AssumeRole per run: a run is bounded by `run_deadline_s`, far below the hour."""
        import boto3

        sts = session.client("sts", config=self._config())
        sts.meta.events.register("before-send", self._before_send)
        creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=f"verify-{self._env.name}")[
            "Credentials"
        ]
        return boto3.Session(
            region_name=self._env.region,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )

    def client(self, service: str) -> Any:
        """The client for `service` (built once; boto3 clients are thread-safe, sessions are not)."""
        with self._lock:
            if service not in self._clients:
                if self._session is None:
                    self._session = self._build_session()
                self._clients[service] = self._session.client(
                    service,  # type: ignore[call-overload]
                    endpoint_url=self._env.spec.aws.endpoint_url,
                    config=self._config(),
                )
            return self._clients[service]

    def _config(self) -> Any:
        from botocore.config import Config

        limits = self._env.thresholds
        read_timeout = limits.aws_timeout_s
        if self._deadline is not None:
            read_timeout = max(min(read_timeout, self._deadline.left()), 0.1)
        return Config(
            connect_timeout=min(read_timeout, 5),
            read_timeout=read_timeout,
            retries={"mode": "standard", "total_max_attempts": limits.aws_max_attempts},
            max_pool_connections=32,
            user_agent_extra=USER_AGENT,
        )


def _mask_credentials(session: boto3.Session) -> None:
    """Tell the redactor the keys this session signs with (resolved from the chain now)."""
    credentials = session.get_credentials()
    if credentials is None:
        return  # NoCredentialsError surfaces on the first call, as a one-line ProbeError
    frozen = credentials.get_frozen_credentials()
    REDACT.add(frozen.access_key, frozen.secret_key, frozen.token)


def http_client(*, verify_tls: bool = True, follow_redirects: bool = False) -> httpx.Client:
    """One pooled client for the HTTP probes of a component."""
    import httpx

    limits = httpx.Limits(max_connections=32, max_keepalive_connections=8)
    return httpx.Client(
        verify=verify_tls,
        follow_redirects=follow_redirects,
        limits=limits,
        headers={"user-agent": USER_AGENT},
        trust_env=False,  # a stray HTTP(S)_PROXY must not reroute health probes
    )
