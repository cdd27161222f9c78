"""Verdict writers: verdict.json, JUnit XML, the step summary and the terminal lines.

Every writer masks secrets on the way out. Files are replaced atomically: written to a fresh
temporary file (never following a symlink) and renamed over the target, so the deploy gate never
reads half a file and a planted symlink cannot redirect the write.
"""

from __future__ import annotations

import json
import os
import secrets
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verify.redact import REDACT
from verify.verdict import to_json

if TYPE_CHECKING:
    from verify.verdict import CheckResult, Verdict

MARKS = {"failed": "FAIL ", "error": "ERROR", "skipped": "SKIP ", "passed": "PASS "}
# Failures first: the step summary and the terminal lead with what needs a person.
_ORDER = {"failed": 0, "error": 1, "skipped": 2, "passed": 3}


def atomic_write(path: Path, text: str) -> None:
    """Replace `path` with `text`, masked, atomically; never follows a symlink at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(REDACT(text))
        os.replace(tmp, path)  # rename replaces a symlink itself, never its target
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json(document: dict[str, Any], path: Path) -> None:
    atomic_write(path, json.dumps(document, indent=2, default=str) + "\n")


def write_verdict(verdict: Verdict, path: Path) -> None:
    write_json(to_json(verdict), path)


def ordered(checks: list[CheckResult]) -> list[CheckResult]:
    return sorted(checks, key=lambda c: (_ORDER[c.status], c.id))


def summary_line(verdict: Verdict) -> str:
    """`VERDICT: FAIL (1 of 13 checks failed) env=local checks=13 passed=12 failed=1 ... in 2.1s`"""
    head = f"VERDICT: {verdict.outcome.upper()}"
    if verdict.outcome != "pass":
        head += f" ({verdict.reason})"
    counts = verdict.counts()
    parts = [head, f"env={verdict.env}", f"checks={len(verdict.checks)}"]
    parts += [f"{status}={counts[status]}" for status in ("passed", "failed", "error", "skipped")]
    parts += [f"{extra}={counts[extra]}" for extra in ("flaky", "waived") if counts[extra]]
    return REDACT(" ".join(parts) + f" in {verdict.duration_s:.1f}s")


def terminal_lines(verdict: Verdict) -> list[tuple[str, str]]:
    """(line, colour) for the terminal's verify section: skips, flaky passes, then problems."""
    lines: list[tuple[str, str]] = []
    skipped: dict[str, list[str]] = {}
    for result in ordered(verdict.checks):
        if result.status == "skipped":
            skipped.setdefault(result.message, []).append(result.id)
    for reason, ids in skipped.items():
        if len(ids) == 1:
            lines.append((f"SKIP  {ids[0]}: {reason}", "yellow"))
        else:
            shown = ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else "")
            lines.append((f"SKIP  {len(ids)} checks: {reason} ({shown})", "yellow"))
    for result in ordered(verdict.checks):
        if result.flaky:
            lines.append(
                (
                    f"FLAKY {result.id}: passed on attempt {result.attempts}; first saw: "
                    f"{result.first_failure}",
                    "yellow",
                )
            )
    for result in ordered(verdict.checks):
        if result.status in ("failed", "error"):
            note = f" [waived: {result.waived}]" if result.waived else ""
            note += " [warning]" if result.severity != "critical" else ""
            colour = "yellow" if note else "red"
            lines.append((f"{MARKS[result.status]} {result.id}: {result.message}{note}", colour))
            lines += [(f"      {line}", "") for line in result.evidence]
    return [(REDACT(line), colour) for line, colour in lines]


def markdown(verdict: Verdict) -> str:
    """A GitHub step summary: the verdict, then the checks, failures first."""
    icon = {"pass": "✅", "fail": "❌", "error": "⚠️"}[verdict.outcome]
    rows = ["| check | status | message |", "|---|---|---|"]
    for result in ordered(verdict.checks):
        message = result.message.replace("|", "\\|").replace("\n", " ")
        status = result.status + (" (flaky)" if result.flaky else "")
        status += " (waived)" if result.waived else ""
        rows.append(f"| `{result.id}` | {status} | {message} |")
    head = f"### {icon} verify: {verdict.outcome.upper()} on `{verdict.env}`"
    release = f" release `{verdict.release}`" if verdict.release else ""
    body = "\n".join([head, "", f"`{summary_line(verdict)}`{release}", "", *rows, ""]) + "\n"
    return REDACT(body)


def junit(verdict: Verdict) -> str:
    """JUnit XML with one test case per check, named by check id, observed values as JSON."""
    counts = verdict.counts()
    suite = ET.Element(
        "testsuite",
        name=f"verify:{verdict.env}",
        tests=str(len(verdict.checks)),
        failures=str(counts["failed"]),
        errors=str(counts["error"]),
        skipped=str(counts["skipped"]),
        time=f"{verdict.duration_s:.3f}",
        timestamp=verdict.started_at.isoformat(),
    )
    for result in verdict.checks:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"verify.{result.component}",
            name=result.id,
            time=f"{result.duration_s:.3f}",
        )
        properties = ET.SubElement(case, "properties")
        for name in ("observed", "threshold"):
            value = json.dumps(getattr(result, name), default=str, sort_keys=True)
            ET.SubElement(properties, "property", name=name, value=value)
        for name in ("severity", "attempts"):
            ET.SubElement(properties, "property", name=name, value=str(getattr(result, name)))
        if result.waived:
            ET.SubElement(properties, "property", name="waived", value=result.waived)
        detail = "\n".join([result.message, *result.evidence])
        if result.status == "failed":
            ET.SubElement(case, "failure", message=result.message).text = detail
        elif result.status == "error":
            ET.SubElement(case, "error", message=result.message).text = detail
        elif result.status == "skipped":
            ET.SubElement(case, "skipped", message=result.message)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
