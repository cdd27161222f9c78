"""The sandbox's doors: one AWS port, behind its token and a loopback Host; status tells the truth."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

from verify.sandbox import SandboxState, control
from verify.sandbox.access import aws_client
from verify.sandbox.cli import sandbox as sandbox_cli

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def request(
    url: str, *, method: str = "GET", headers: dict[str, str] | None = None, body: Any = None
) -> tuple[int, str]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with _NO_PROXY.open(req, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def listening_ports(pid: int) -> set[int]:
    """TCP ports process `pid` listens on (from /proc: its socket inodes in LISTEN state)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def test_the_aws_process_listens_on_one_port_only(sandbox: SandboxState) -> None:
    aws_port = int(sandbox.endpoints["aws"].rsplit(":", 1)[1])
    assert listening_ports(sandbox.parts["aws"].pids["aws"]) == {aws_port}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/moto-api/data.json", None),
        ("POST", "/moto-api/reset", {}),
        ("POST", "/_sandbox/faults", {"owner": "aws", "active": ["alarm-firing"]}),
        ("GET", "/_sandbox/status", None),
    ],
)
def test_without_the_token_nothing_is_served(
    sandbox: SandboxState, method: str, path: str, body: Any
) -> None:
    status, answer = request(f"{sandbox.endpoints['aws']}{path}", method=method, body=body)
    assert (status, json.loads(answer)) == (403, {"error": "missing or wrong sandbox token"})
    assert control.call(sandbox.endpoints["aws"], "status", sandbox.token)["by_owner"]["aws"] == []


def test_moto_api_is_not_served_even_with_the_token(sandbox: SandboxState) -> None:
    headers = {control.TOKEN_HEADER: sandbox.token}
    status, _ = request(f"{sandbox.endpoints['aws']}/moto-api/data.json", headers=headers)
    assert status == 404


def test_a_foreign_host_header_is_refused_even_with_the_token(sandbox: SandboxState) -> None:
    """What a web page reaching loopback by DNS rebinding would send."""
    headers = {control.TOKEN_HEADER: sandbox.token, "Host": "evil.example:80"}
    status, answer = request(f"{sandbox.endpoints['aws']}/_sandbox/status", headers=headers)
    assert (status, json.loads(answer)) == (403, {"error": "Host header is not a loopback name"})


def test_aws_calls_without_the_token_are_access_denied(sandbox: SandboxState) -> None:
    import boto3

    client = boto3.Session(
        aws_access_key_id=sandbox.access_key_id,
        aws_secret_access_key=sandbox.secret_access_key,
        region_name=sandbox.region,
    ).client("secretsmanager", endpoint_url=sandbox.endpoints["aws"])
    with pytest.raises(ClientError) as raised:
        client.list_secrets()
    assert (
        raised.value.response["Error"]["Message"]
        == "verify sandbox: missing or wrong sandbox token"
    )
    assert aws_client(sandbox, "secretsmanager").list_secrets()["SecretList"]


def test_status_shows_the_faults_the_server_really_has(sandbox: SandboxState) -> None:
    # Switched behind the CLI's back (with the token): the state file knows nothing of it.
    control.call(
        sandbox.endpoints["aws"],
        "faults",
        sandbox.token,
        {"owner": "aws", "active": ["alarm-firing"]},
    )
    try:
        result = CliRunner().invoke(sandbox_cli, ["status", "--dir", str(sandbox.dir)])
        assert result.exit_code == 0, result.output
        assert "  faults    alarm-firing" in result.output
    finally:
        control.call(
            sandbox.endpoints["aws"], "faults", sandbox.token, {"owner": "aws", "active": []}
        )


def test_heal_of_an_inactive_fault_says_so(sandbox: SandboxState) -> None:
    runner = CliRunner()
    result = runner.invoke(sandbox_cli, ["heal", "alarm-firing", "--dir", str(sandbox.dir)])
    assert (result.exit_code, result.output) == (
        0,
        "sandbox: alarm-firing was not active; nothing to heal\n",
    )
    typo = runner.invoke(sandbox_cli, ["break", "alarm-fring", "--dir", str(sandbox.dir)])
    assert typo.exit_code == 2
    assert typo.output.startswith(
        "verify sandbox: unknown fault 'alarm-fring'; did you mean 'alarm-firing'?"
    )
