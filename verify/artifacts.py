"""Artifacts a failing check leaves (a browser screenshot, a Playwright trace): moved under the
run's reports dir, named in the check's evidence, attached to Allure when it is active."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pytest

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_KINDS = {"screenshot": ("PNG", "open it"), "trace": ("ZIP", "playwright show-trace FILE")}


def folder_name(check_id: str) -> str:
    """A file-system-safe folder name for a check id (`frontends.route[support:/]` -> ...)."""
    return _UNSAFE.sub("_", check_id).strip("_") or "check"


def keep(
    artifacts: Mapping[str, str], reports_dir: Path, check_id: str, config: pytest.Config
) -> list[str]:
    """Move `artifacts` (kind -> temp file) to reports/artifacts/<check>/; evidence lines."""
    if not artifacts:
        return []
    target = Path(reports_dir) / "artifacts" / folder_name(check_id)
    shutil.rmtree(target, ignore_errors=True)  # a previous run's files must not pass for this one's
    target.mkdir(parents=True)
    lines = []
    for kind, source in sorted(artifacts.items()):
        path = Path(source)
        if not path.exists():
            continue  # a settle retry already moved it
        destination = target / path.name
        shutil.move(str(path), destination)
        if not any(path.parent.iterdir()):
            path.parent.rmdir()
        _, how = _KINDS.get(kind, ("", "open it"))
        lines.append(f"{kind}: {destination} ({how})")
        _attach(config, kind, destination)
    return lines


def _attach(config: pytest.Config, kind: str, path: Path) -> None:
    if not config.pluginmanager.has_plugin("allure_listener"):
        return
    import allure

    attachment = allure.attachment_type.PNG if kind == "screenshot" else None
    allure.attach.file(  # type: ignore[no-untyped-call]
        str(path), name=kind, attachment_type=attachment, extension=path.suffix[1:]
    )
