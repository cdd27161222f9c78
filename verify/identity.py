"""Check ids (`ecs.service_stable[app-api]`), the component a check belongs to, and the plugin's
own collection-time skips.

A check's component is the registration that names its module. Under --env a checks module's node
id is `verify:<component>` (wherever the module is installed), so a check id is derived from the
node id alone and the xdist controller, which collects nothing, names unrun checks as the workers do.
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


MODULE_PREFIX = "verify:"


def module_nodeid(component: str) -> str:
    return f"{MODULE_PREFIX}{component}"


def check_id_of(nodeid: str) -> tuple[str, str] | None:
    """(check id, component) of a check's node id, or None for any other node."""
    path, function, param = split_nodeid(nodeid)
    if not path.startswith(MODULE_PREFIX):
        return None
    component = path.removeprefix(MODULE_PREFIX)
    check = f"{component}.{function.removeprefix('test_')}"
    return (f"{check}[{param}]" if param is not None else check), component


def make_module(parent: pytest.Collector, path: Path, registry: Registry) -> CheckModule:
    """The collector of a module under --env, named `verify:<component>` when it is a check module."""
    component = registry.component_of_file(path)
    if component is None:
        return CheckModule.from_parent(parent, path=path)
    return CheckModule.from_parent(parent, path=path, nodeid=module_nodeid(component.name))


class CheckModule(pytest.Module):
    """A module collected under --env: it must be the checks module of a registered component."""

    def collect(self):  # type: ignore[no-untyped-def]
        from verify.run import current

        run = current(self.config)
        if run is not None and not self.nodeid.startswith(MODULE_PREFIX):
            known = ", ".join(sorted(run.registry.components))
            raise self.CollectError(
                f"no registered component owns these checks (known: {known}); "
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
    found = check_id_of(item.nodeid)
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
    discoverable = any(c.release and env.configures(c.name) for c in run.registry)
    if item.get_closest_marker("requires_release") and run.release is None and not discoverable:
        return "no --release given and no configured component can discover the release"
    if item.get_closest_marker("writes") and not env.spec.allow_writes:
        return f"env {env.name} does not allow checks that write (allow_writes)"
    return None
