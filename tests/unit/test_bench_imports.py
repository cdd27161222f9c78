"""The bench scripts import only what the package still has (a refactor must not break `make bench`)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _imports(script: Path) -> list[tuple[str, str]]:
    pairs = []
    for node in ast.walk(ast.parse(script.read_text(), str(script))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("verify"):
            pairs += [(node.module or "", alias.name) for alias in node.names]
    return pairs


@pytest.mark.parametrize("script", sorted(BENCH.glob("*.py")), ids=lambda p: p.name)
def test_bench_imports_resolve(script: Path) -> None:
    for module_name, name in _imports(script):
        module = importlib.import_module(module_name)
        if not hasattr(module, name):
            importlib.import_module(f"{module_name}.{name}")  # a submodule
