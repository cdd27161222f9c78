"""Components: one registration declares a component's table, probes, views and checks.

A component is what an environment configures as one table of environments.toml (`ecs`,
`queues`, ...). Its registration (`verify/components/<name>.py`, or a team package's module named
by a `verify.components` entry point or returned from the `pytest_verify_components` hook) says:

- `table`: the pydantic model of that table (unknown keys are errors);
- `thresholds`: the thresholds it adds to `[defaults.thresholds]` / `thresholds = {...}`;
- `probes`: the observations it makes, keyed like `ecs.cluster`, each a plain function of a
  `ProbeContext`; `affinity` pins a probe to one dedicated thread (Playwright's sync API);
- `views`: the fixtures its checks read, each a pure function of one probe's observation (or of
  the table) and the parameters of the check;
- `params`: check parameters taken from the table (`ecs_service` -> the configured services);
- `checks`: the module holding its checks; every check in it reports as `<name>.<check>`;
- `applies`: per check (`replication_lag`), a function of the table answering why the table gives
  that check nothing to look at (no replica configured), or None; such a check is skipped;
- `iam`: a function of the table and the environment's ARNs returning the IAM grants its probes
  need, scoped to the resources the table names (`verify iam-policy`, see verify/iam.py).

Nothing else in the plugin, the config loader, the scheduler or the verdict names a component.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

    from verify.context import ProbeContext
    from verify.iam import Grant, Scope

ENTRY_POINT_GROUP = "verify.components"
# Keys of an environment's table that belong to the run, not to a component.
CORE_KEYS = frozenset(
    {
        "sandbox",
        "allow_writes",
        "allow_plain_http",
        "release_from",
        "aws",
        "thresholds",
        "severity",
        "rollback",
        "waivers",
        "monitor",
    }
)
Derive = Callable[[Any, Mapping[str, Any]], Any]


class RegistryError(Exception):
    """A registration is inconsistent (one line, names the component)."""


def whole(observation: Any, params: Mapping[str, Any]) -> Any:
    """The default view: the probe's whole observation."""
    return observation


@dataclass(frozen=True)
class Probe:
    """One observation a component makes; `run(ctx)` does the I/O and returns a dataclass."""

    key: str
    run: Callable[[ProbeContext], Any]
    affinity: str | None = None  # probes sharing one affinity run on one dedicated thread


@dataclass(frozen=True)
class View:
    """A fixture `fixture` = `derive(observation of probe, check params)`; re-derived on settle.

    `probe=None` derives from the component's table instead (configuration views).
    """

    fixture: str
    probe: str | None
    derive: Derive = whole
    params: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReleaseSource:
    """How a component tells the release running when no --release is given.

    `discover(observation, table)` answers (release or None, how it was found or why not).
    """

    probe: str
    discover: Callable[[Any, Any], tuple[str | None, str]]


@dataclass(frozen=True)
class Component:
    """Everything that belongs to one component; see the module docstring."""

    name: str
    table: type[BaseModel]
    checks: str
    probes: tuple[Probe, ...] = ()
    views: tuple[View, ...] = ()
    params: Mapping[str, Callable[[Any], Sequence[str]]] = field(default_factory=dict)
    thresholds: type[BaseModel] | None = None
    release: ReleaseSource | None = None
    summary: str = ""
    applies: Mapping[str, Callable[[Any], str | None]] = field(default_factory=dict)
    iam: Callable[[Any, Scope], Sequence[Grant]] | None = None

    @cached_property
    def checks_file(self) -> Path:
        """The file of the checks module (found without importing it)."""
        try:
            spec = importlib.util.find_spec(self.checks)
        except (ImportError, ValueError):
            spec = None
        if spec is None or spec.origin is None:
            raise RegistryError(f"component {self.name}: checks module {self.checks!r} not found")
        return Path(spec.origin).resolve()

    def check_names(self) -> list[str]:
        """`<name>.<check>` of every check function in the checks module."""
        module = importlib.import_module(self.checks)
        return [
            f"{self.name}.{attr.removeprefix('test_')}"
            for attr, value in vars(module).items()
            if attr.startswith("test_") and inspect.isfunction(value)
        ]


class Registry:
    """The components of a run, validated once: names, probe keys and fixtures are unique."""

    def __init__(self, components: Iterable[Component]) -> None:
        self.components: dict[str, Component] = {}
        self.probes: dict[str, tuple[Component, Probe]] = {}
        self.views: dict[str, tuple[Component, View]] = {}
        self.params: dict[str, Component] = {}
        for component in components:
            self._add(component)
        self._by_file: dict[Path, Component] | None = None

    def _add(self, component: Component) -> None:
        name = component.name
        if not name.isidentifier() or name in CORE_KEYS:
            raise RegistryError(f"component name {name!r} is not allowed")
        if name in self.components:
            raise RegistryError(f"component {name!r} is registered twice")
        self.components[name] = component
        for probe in component.probes:
            if probe.key in self.probes:
                raise RegistryError(f"component {name}: probe {probe.key!r} already registered")
            self.probes[probe.key] = (component, probe)
        for view in component.views:
            if view.fixture in self.views:
                raise RegistryError(
                    f"component {name}: fixture {view.fixture!r} already registered"
                )
            if view.probe is not None and view.probe not in {p.key for p in component.probes}:
                raise RegistryError(f"component {name}: view {view.fixture} reads unknown probe")
            self.views[view.fixture] = (component, view)
        for param in component.params:
            if param in self.params:
                raise RegistryError(f"component {name}: parameter {param!r} already registered")
            self.params[param] = component

    def __iter__(self) -> Any:
        return iter(self.components.values())

    def component_of_file(self, path: Path) -> Component | None:
        """The component whose checks module is `path`."""
        if self._by_file is None:
            self._by_file = {c.checks_file: c for c in self.components.values()}
        return self._by_file.get(path.resolve())

    def check_names(self) -> set[str]:
        """Every `<component>.<check>` the registered modules define (for waiver validation)."""
        return {name for component in self for name in component.check_names()}


def builtin() -> list[Component]:
    """The components shipped with verify."""
    from verify.components import BUILTIN

    return list(BUILTIN)


def from_entry_points() -> list[Component]:
    """Components that installed packages declare under the `verify.components` entry point.

    The entry point names a Component, a list of them, or a callable returning either.
    """
    found: list[Component] = []
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry.load()
        except Exception as exc:  # a broken team package: say which, in one line
            raise RegistryError(
                f"entry point {entry.name} = {entry.value}: {type(exc).__name__}: {exc}"
            ) from None
        found.extend(_as_components(loaded() if callable(loaded) else loaded, entry.value))
    return found


def _as_components(value: Any, where: str) -> list[Component]:
    items = value if isinstance(value, list | tuple) else [value]
    for item in items:
        if not isinstance(item, Component):
            raise RegistryError(f"{where}: expected a verify Component, got {type(item).__name__}")
    return list(items)


def discover(extra: Iterable[Any] = ()) -> Registry:
    """Built-in components, then entry points, then `extra` (from the pytest hook)."""
    hooked = [c for value in extra for c in _as_components(value, "pytest_verify_components")]
    return Registry([*builtin(), *from_entry_points(), *hooked])
