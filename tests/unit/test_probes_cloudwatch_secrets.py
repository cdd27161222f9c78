"""CloudWatch alarms and secret-presence probes against botocore's Stubber."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import Stubber

from tests.support.stubbed import ACCOUNT, REGION, stubbed
from verify.probes.aws.cloudwatch import Alarm, observe_alarms
from verify.probes.aws.secrets import SecretPresence, observe_parameters, observe_secret
from verify.probes.errors import ProbeError

PREFIX = "mobilytics-prod-"
WHEN = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def cloudwatch() -> Iterator[tuple[Any, Stubber]]:
    yield from stubbed("cloudwatch")


@pytest.fixture
def secretsmanager() -> Iterator[tuple[Any, Stubber]]:
    yield from stubbed("secretsmanager")


@pytest.fixture
def ssm() -> Iterator[tuple[Any, Stubber]]:
    yield from stubbed("ssm")


def metric_alarm(name: str, state: str, reason: str) -> dict[str, Any]:
    return {
        "AlarmName": name,
        "AlarmArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}",
        "StateValue": state,
        "StateReason": reason,
        "StateUpdatedTimestamp": WHEN,
        "MetricName": "HTTPCode_Target_5XX_Count",
        "Namespace": "AWS/ApplicationELB",
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 10.0,
        "ComparisonOperator": "GreaterThanThreshold",
    }


# --- CloudWatch ---------------------------------------------------------------------------


def test_alarms_of_both_kinds_across_pages(cloudwatch: Any) -> None:
    client, stubber = cloudwatch
    request = {"AlarmNamePrefix": PREFIX, "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]}
    stubber.add_response(
        "describe_alarms",
        {
            "MetricAlarms": [
                metric_alarm(f"{PREFIX}api-5xx", "ALARM", "Threshold Crossed: 1 datapoint")
            ],
            "NextToken": "page-2",
        },
        request,
    )
    stubber.add_response(
        "describe_alarms",
        {
            "MetricAlarms": [metric_alarm(f"{PREFIX}api-latency", "INSUFFICIENT_DATA", "no data")],
            "CompositeAlarms": [
                {
                    "AlarmName": f"{PREFIX}api-degraded",
                    "AlarmRule": f'ALARM("{PREFIX}api-5xx")',
                    "StateValue": "OK",
                    "StateReason": "rule evaluated to false",
                    "StateUpdatedTimestamp": WHEN,
                }
            ],
        },
        {**request, "NextToken": "page-2"},
    )

    alarms = observe_alarms(client, PREFIX)

    assert alarms == [
        Alarm(f"{PREFIX}api-5xx", "metric", "ALARM", "Threshold Crossed: 1 datapoint", WHEN),
        Alarm(f"{PREFIX}api-degraded", "composite", "OK", "rule evaluated to false", WHEN),
        Alarm(f"{PREFIX}api-latency", "metric", "INSUFFICIENT_DATA", "no data", WHEN),
    ]


def test_no_alarms_is_an_empty_list(cloudwatch: Any) -> None:
    client, stubber = cloudwatch
    stubber.add_response("describe_alarms", {"MetricAlarms": [], "CompositeAlarms": []})
    assert observe_alarms(client, PREFIX) == []


def test_alarm_access_denied_is_a_probe_error(cloudwatch: Any) -> None:
    client, stubber = cloudwatch
    stubber.add_client_error("describe_alarms", "AccessDenied", "not authorized", 403)
    with pytest.raises(ProbeError) as raised:
        observe_alarms(client, PREFIX)
    assert (
        str(raised.value)
        == f"cloudwatch:DescribeAlarms prefix={PREFIX}: AccessDenied: not authorized"
    )


# --- Secrets Manager ----------------------------------------------------------------------

SECRET = "/mobilytics/prod/app-api/database-url"


def described_secret(**extra: Any) -> dict[str, Any]:
    return {
        "ARN": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{SECRET}-AbCdEf",
        "Name": SECRET,
        "LastChangedDate": WHEN,
        "VersionIdsToStages": {"7c1d3f0e-1111-2222-3333-444455556666": ["AWSCURRENT"]},
        **extra,
    }


def test_existing_secret(secretsmanager: Any) -> None:
    client, stubber = secretsmanager
    # Only describe_secret is queued: a get_secret_value call would fail the test.
    stubber.add_response("describe_secret", described_secret(), {"SecretId": SECRET})
    assert observe_secret(client, SECRET) == SecretPresence(
        SECRET, "secretsmanager", True, "exists"
    )


def test_missing_secret_is_an_observation(secretsmanager: Any) -> None:
    client, stubber = secretsmanager
    stubber.add_client_error(
        "describe_secret",
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret.",
    )
    presence = observe_secret(client, SECRET)
    assert (presence.present, presence.detail) == (False, "not found")


def test_secret_pending_deletion_is_absent(secretsmanager: Any) -> None:
    client, stubber = secretsmanager
    deleted = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    stubber.add_response("describe_secret", described_secret(DeletedDate=deleted))
    presence = observe_secret(client, SECRET)
    assert (presence.present, presence.detail) == (False, "scheduled for deletion on 2026-12-01")


def test_a_secret_created_but_never_set_is_absent(secretsmanager: Any) -> None:
    client, stubber = secretsmanager
    stubber.add_response("describe_secret", described_secret(VersionIdsToStages={}))
    presence = observe_secret(client, SECRET)
    assert (presence.present, presence.detail) == (
        False,
        "exists but has no AWSCURRENT version (no value set)",
    )
    stubber.add_response(
        "describe_secret", described_secret(VersionIdsToStages={"0" * 32: ["AWSPREVIOUS"]})
    )
    assert not observe_secret(client, SECRET).present


def test_an_answer_about_another_secret_is_an_error(secretsmanager: Any) -> None:
    client, stubber = secretsmanager
    stubber.add_response("describe_secret", described_secret(Name="/mobilytics/prod/other"))
    with pytest.raises(ProbeError) as raised:
        observe_secret(client, SECRET)
    assert raised.value.cause == (
        "the answer describes '/mobilytics/prod/other', not the secret asked for"
    )


def test_secret_access_denied_is_a_probe_error(secretsmanager: Any) -> None:
    client, stubber = secretsmanager
    stubber.add_client_error(
        "describe_secret",
        "AccessDeniedException",
        "User is not authorized to perform: secretsmanager:DescribeSecret",
    )
    with pytest.raises(ProbeError) as raised:
        observe_secret(client, SECRET)
    assert raised.value.target == f"secretsmanager:DescribeSecret name={SECRET}"
    assert raised.value.cause.startswith("AccessDeniedException: User is not authorized")


# --- SSM Parameter Store ------------------------------------------------------------------


def name_filter(names: list[str]) -> list[dict[str, Any]]:
    return [{"Key": "Name", "Option": "Equals", "Values": names}]


def parameter(name: str) -> dict[str, Any]:
    return {"Name": name, "Type": "SecureString", "Version": 3, "LastModifiedDate": WHEN}


def test_parameters_present_and_missing_in_batches_of_50(ssm: Any) -> None:
    client, stubber = ssm
    names = [f"/mobilytics/prod/param-{index:02d}" for index in range(60)]
    present = set(names[::2])
    first, second = names[:50], names[50:]
    # The first batch answers in two pages; the second in one.
    stubber.add_response(
        "describe_parameters",
        {"Parameters": [parameter(n) for n in first[:25] if n in present], "NextToken": "t2"},
        {"ParameterFilters": name_filter(first)},
    )
    stubber.add_response(
        "describe_parameters",
        {"Parameters": [parameter(n) for n in first[25:] if n in present]},
        {"ParameterFilters": name_filter(first), "NextToken": "t2"},
    )
    stubber.add_response(
        "describe_parameters",
        {"Parameters": [parameter(n) for n in second if n in present]},
        {"ParameterFilters": name_filter(second)},
    )

    observed = observe_parameters(client, names)

    assert [presence.name for presence in observed] == names
    assert {presence.name for presence in observed if presence.present} == present
    assert {presence.detail for presence in observed} == {"exists", "not found"}
    assert {presence.store for presence in observed} == {"ssm"}


def test_parameter_throttling_is_a_probe_error(ssm: Any) -> None:
    client, stubber = ssm
    stubber.add_client_error(
        "describe_parameters",
        "ThrottlingException",
        "Rate exceeded",
        response_meta={"RetryAttempts": 2},
    )
    with pytest.raises(ProbeError) as raised:
        observe_parameters(client, ["/mobilytics/prod/x"])
    assert raised.value.cause == "ThrottlingException: Rate exceeded (after 3 attempts)"
