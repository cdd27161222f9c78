"""Check ids (`ecs.service_stable[app-api]`), the component a check belongs to, and the plugin's
own collection-time skips.

A check's component is the registration that names its module: the id is derived from the node id
alone, so the xdist controller (which collects nothing) names unrun checks as the workers do.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from verify.run import CHECK_ID, SKIP_REASON

if TYPE_CHECKING:
    from verify.registry import Component, Registry
    from verify.run import Run


def split_nodeid(nodeid: str) -> tuple[str, str, str | None]:
    """(`path`, `function`, `param id` or None) of `path::function[param]`."""
    path, _, rest = nodeid.partition("::")
    name = rest.rsplit("::", 1)[-1]
    if name.endswith("]") and "[" in name:
        function, _, param = name[:-1].partition("[")
        return path, function, param
    return path, name, None


def check_id_of(nodeid: str, rootpath: Path, registry: Registry) -> tuple[str, str] | None:
    """(check id, component) of the node, or None when no component registers its module."""
    path, function, param = split_nodeid(nodeid)
    component = registry.component_of_file(rootpath / path)
    if component is None:
        return None
    check = f"{component.name}.{function.removeprefix('test_')}"
    return (f"{check}[{param}]" if param is not None else check), component.name


class CheckModule(pytest.Module):
    """A module collected under --env: it must be the checks module of a registered component."""

    def collect(self):  # type: ignore[no-untyped-def]
        from verify.run import current

        run = current(self.config)
        if run is not None and run.registry.component_of_file(self.path) is None:
            known = ", ".join(sorted(run.registry.components))
            raise self.CollectError(
                f"{self.path.name}: no registered component owns these checks (known: {known}); "
                "a component's registration names its checks module (see README, Adding a "
                "component)"
            )
        return super().collect()


def generate_params(metafunc: pytest.Metafunc, run: Run) -> None:
    """Parametrize each check by the component parameters it reads (`ecs_service`, ...)."""
    for argname in metafunc.fixturenames:
        component = run.registry.params.get(argname)
        if component is None or not run.env.configures(component.name):
            continue  # an unconfigured component's checks are skipped, unparametrized
        values = list(component.params[argname](run.env.table(component.name)))
        if not values:
            continue  # nothing to check: the component's `applies` names why (see skip_reason)
        metafunc.parametrize(argname, values, ids=values)


def mark_check(item: pytest.Item, run: Run) -> None:
    """Name the check and skip it, with the reason, when the environment cannot run it."""
    found = check_id_of(item.nodeid, item.config.rootpath, run.registry)
    if found is None:
        return
    check_id, component_name = found
    item.stash[CHECK_ID] = check_id
    reason = skip_reason(item, run, run.registry.components[component_name])
    if reason:
        item.stash[SKIP_REASON] = reason
        item.add_marker(pytest.mark.skip(reason=reason))


def skip_reason(item: pytest.Item, run: Run, component: Component) -> str | None:
    env = run.env
    if not env.configures(component.name):
        return f"{component.name} is not configured for env {env.name}"
    applies = component.applies.get(split_nodeid(item.nodeid)[1].removeprefix("test_"))
    why = applies(env.table(component.name)) if applies is not None else None
    if why:
        return why
    if item.get_closest_marker("requires_release") and run.release is None:
        if not any(c.release and env.configures(c.name) for c in run.registry):
            return "no --release given and no configured component can discover the release"
    if item.get_closest_marker("writes") and not env.spec.allow_writes:
        return f"env {env.name} does not allow checks that write (allow_writes)"
    return None
