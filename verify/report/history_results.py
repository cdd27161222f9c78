"""The monitor's history as Allure results: one test result per check per iteration.

A check keeps one history id across iterations, so the report shows each check's latest
iteration, the earlier ones as its retries; ERROR becomes Allure's `broken`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from verify.monitor import history
from verify.redact import REDACT

STATUS = {"passed": "passed", "failed": "failed", "error": "broken", "skipped": "skipped"}


def write(history_file: Path, results: Path, last: int | None = None) -> int:
    """Allure result files for the history's iterations (the `last` N, if given); how many."""
    records = list(history.read(history_file))
    if last is not None:
        records = records[-last:]
    results.mkdir(parents=True, exist_ok=True)
    count = 0
    for record in records:
        for result in results_of(record, history_file.parent, results):
            path = results / f"{result['uuid']}-result.json"
            path.write_text(REDACT(json.dumps(result)), encoding="utf-8")
            count += 1
    return count


def results_of(
    record: dict[str, Any], home: Path | None = None, into: Path | None = None
) -> list[dict[str, Any]]:
    """Allure results of one history record; its kept evidence is attached when still there."""
    env = str(record.get("env") or "?")
    number = record.get("iteration")
    try:
        start = int(datetime.fromisoformat(str(record.get("started_at"))).timestamp() * 1000)
    except ValueError:
        start = 0
    checks = list(record.get("checks") or [])
    if record.get("verdict") == "error" and not checks:
        # The iteration could not observe at all: it shows as one broken result of its own.
        checks = [{"id": "monitor.iteration", "status": "error", "message": record.get("reason")}]
    results = []
    offset = start
    for check in checks:
        check_id = str(check.get("id"))
        duration = int(float(check.get("duration_ms") or 0))
        results.append(
            {
                "uuid": str(uuid.uuid4()),
                "historyId": hashlib.md5(f"{env}:{check_id}".encode()).hexdigest(),
                "testCaseId": hashlib.md5(check_id.encode()).hexdigest(),
                "name": check_id,
                "fullName": f"{env}.{check_id}",
                "status": STATUS.get(str(check.get("status")), "broken"),
                "statusDetails": {"message": str(check.get("message") or "")},
                "start": offset,
                "stop": offset + duration,
                "attachments": attach(check.get("attachments"), home, into),
                "labels": [
                    {"name": "parentSuite", "value": f"monitor {env}"},
                    {"name": "suite", "value": check_id.split(".", 1)[0]},
                    {"name": "iteration", "value": str(number)},
                ],
            }
        )
        offset += duration
    return results


MIME = {".png": "image/png", ".zip": "application/zip"}


def attach(paths: Any, home: Path | None, into: Path | None) -> list[dict[str, str]]:
    """Copy kept evidence (paths relative to the history's directory) in as Allure attachments."""
    if not isinstance(paths, list) or home is None or into is None:
        return []
    attachments = []
    for relative in paths:
        source = (home / str(relative)).resolve()
        if home.resolve() not in source.parents or not source.is_file():
            continue  # pruned, or a path that leads out of the monitor's directory
        name = f"{uuid.uuid4()}-attachment{source.suffix}"
        shutil.copy2(source, into / name)
        attachments.append(
            {
                "name": source.stem,
                "source": name,
                "type": MIME.get(source.suffix, "application/octet-stream"),
            }
        )
    return attachments
