"""What failed checks left behind (screenshots, traces), kept per iteration beside the history.

Each iteration's run writes into the same `last/` directory, so a failure's files are copied to
`evidence/<iteration>/<check>/` before the next run replaces them; only the newest iterations'
evidence is kept.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from verify.artifacts import folder_name

if TYPE_CHECKING:
    from verify.monitor.iteration import Iteration

KEEP_ITERATIONS = 100  # of evidence; the history itself keeps every iteration


def keep(iteration: Iteration, home: Path) -> dict[str, list[str]]:
    """Copy each failed check's files; check id -> paths relative to `home` (the history's dir)."""
    kept: dict[str, list[str]] = {}
    for sample in iteration.samples:
        if sample.passed or not sample.artifacts:
            continue
        target = home / "evidence" / str(iteration.number) / folder_name(sample.check)
        for name in sample.artifacts:
            source = Path(name)
            if not source.is_file():
                continue
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / source.name)
            kept.setdefault(sample.check, []).append(str((target / source.name).relative_to(home)))
    prune(home)
    return kept


def prune(home: Path, keep_last: int = KEEP_ITERATIONS) -> None:
    """Remove the evidence of all but the newest `keep_last` iterations."""
    root = home / "evidence"
    if not root.is_dir():
        return
    numbered = sorted((int(p.name), p) for p in root.iterdir() if p.name.isdigit())
    for _, path in numbered[:-keep_last]:
        shutil.rmtree(path, ignore_errors=True)
