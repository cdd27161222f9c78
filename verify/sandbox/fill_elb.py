"""ELBv2 answers with per-target health from the world (moto says every target is healthy)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from verify.sandbox.world import World

NS = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
ET.register_namespace("", NS)


def _q(*names: str) -> str:
    return "/".join(f"{{{NS}}}{n}" for n in names)


def describe_target_health(world: World, body: bytes) -> bytes:
    """Rewrite each TargetHealth's State/Reason/Description and the real HealthCheckPort."""
    root = ET.fromstring(body)
    members = root.findall(_q("DescribeTargetHealthResult", "TargetHealthDescriptions", "member"))
    for member in members:
        ip = member.findtext(_q("Target", "Id")) or ""
        port = member.findtext(_q("Target", "Port"))
        check_port = member.find(_q("HealthCheckPort"))
        if check_port is not None and port:
            check_port.text = port  # AWS reports the port the check used, not "traffic-port"
        health = member.find(_q("TargetHealth"))
        if health is None:
            health = ET.SubElement(member, f"{{{NS}}}TargetHealth")
        for child in list(health):
            health.remove(child)
        state, reason, description = world.target_health(ip)
        ET.SubElement(health, f"{{{NS}}}State").text = state
        if reason is not None:
            ET.SubElement(health, f"{{{NS}}}Reason").text = reason
        if description is not None:
            ET.SubElement(health, f"{{{NS}}}Description").text = description
    encoded: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return encoded
