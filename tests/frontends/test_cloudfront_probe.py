"""The CloudFront probe against botocore's Stubber (real response shapes, AWS's word case)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from verify.probes.aws import cloudfront
from verify.probes.errors import ProbeError


def _summary(dist_id: str, status: str) -> dict[str, Any]:
    return {
        "Id": dist_id,
        "ARN": f"arn:aws:cloudfront::123456789012:distribution/{dist_id}",
        "Status": status,
        "LastModifiedTime": datetime(2026, 11, 26, tzinfo=UTC),
        "DomainName": f"{dist_id.lower()}.cloudfront.net",
        "Aliases": {"Quantity": 0},
        "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "o.example.test"}]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "o",
            "ViewerProtocolPolicy": "redirect-to-https",
        },
        "CacheBehaviors": {"Quantity": 0},
        "CustomErrorResponses": {"Quantity": 0},
        "Comment": "",
        "PriceClass": "PriceClass_100",
        "Enabled": True,
        "ViewerCertificate": {},
        "Restrictions": {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}},
        "WebACLId": "",
        "HttpVersion": "http2",
        "IsIPV6Enabled": True,
        "Staging": False,
    }


def _invalidations(*items: tuple[str, str, int]) -> dict[str, Any]:
    return {
        "InvalidationList": {
            "Marker": "",
            "MaxItems": 100,
            "IsTruncated": False,
            "Quantity": len(items),
            "Items": [
                {"Id": i, "Status": s, "CreateTime": datetime(2026, 11, 26, h, tzinfo=UTC)}
                for i, s, h in items
            ],
        }
    }


@pytest.fixture
def client() -> Any:
    return boto3.client(
        "cloudfront", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


def test_status_enabled_and_newest_invalidation(client: Any) -> None:
    stub = Stubber(client)
    stub.add_response(
        "list_distributions",
        {
            "DistributionList": {
                "Marker": "",
                "MaxItems": 100,
                "IsTruncated": False,
                "Quantity": 2,
                "Items": [_summary("E1", "InProgress"), _summary("E2", "Deployed")],
            }
        },
    )
    stub.add_response(
        "list_invalidations",
        _invalidations(("I1", "Completed", 9), ("I2", "InProgress", 10)),
        {"DistributionId": "E1", "MaxItems": "100"},
    )
    stub.add_response(
        "list_invalidations", _invalidations(), {"DistributionId": "E2", "MaxItems": "100"}
    )
    with stub:
        found = cloudfront.observe_distributions(
            client, {"support": "E1", "portal": "E2", "gone": "E9"}, max_workers=1
        )
    assert found["support"].status == "InProgress" and found["support"].enabled is True
    assert found["support"].latest_invalidation is not None
    assert found["support"].latest_invalidation.id == "I2"  # the newest, whatever the order
    assert found["portal"].latest_invalidation is None and found["portal"].invalidations_seen == 0
    assert found["gone"].missing == "distribution E9 not found"


def test_access_denied_is_a_probe_error(client: Any) -> None:
    stub = Stubber(client)
    stub.add_client_error("list_distributions", "AccessDenied", "not authorized", 403)
    with stub, pytest.raises(ProbeError, match="cloudfront:ListDistributions: AccessDenied"):
        cloudfront.observe_distributions(client, {"support": "E1"}, max_workers=1)
