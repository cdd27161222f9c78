"""Hook `ecs-previous-task-definition`: put each service back on the revision before the current.

The failing revision is the one running the verified release (`--release`), else the family's
newest ACTIVE revision. A service not on it was rolled back already: nothing to do (idempotent).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from verify.actions.base import Done, HookContext, HookError, aws_error

if TYPE_CHECKING:
    from verify.actions.models import EcsHook


def _revision(arn: str) -> tuple[str, int]:
    family, _, number = arn.rsplit("/", 1)[-1].rpartition(":")
    return family, int(number)


def _release_of(ecs: Any, td: str, service: str) -> str | None:
    """The image tag of the task definition's release container (named like the service or family)."""
    definition = ecs.describe_task_definition(taskDefinition=td)["taskDefinition"]
    containers = definition.get("containerDefinitions", [])
    family = definition.get("family")
    chosen = next((c for c in containers if c.get("name") in (service, family)), None)
    chosen = chosen or (containers[0] if containers else None)
    image = str((chosen or {}).get("image", ""))
    tail = image.rsplit("/", 1)[-1]
    return tail.rsplit(":", 1)[-1] if ":" in tail else None


def _active_revisions(ecs: Any, family: str) -> list[str]:
    """ACTIVE revisions of `family`, newest first."""
    arns: list[str] = []
    for page in ecs.get_paginator("list_task_definitions").paginate(
        familyPrefix=family, status="ACTIVE", sort="DESC"
    ):
        arns += [a for a in page["taskDefinitionArns"] if _revision(a)[0] == family]
    return sorted(arns, key=lambda a: _revision(a)[1], reverse=True)


def roll_back(hook: EcsHook, ctx: HookContext) -> Done:
    """update_service each service to its previous ACTIVE revision (or say it is there already)."""
    from botocore.exceptions import BotoCoreError, ClientError

    ecs_table = ctx.env.table("ecs")
    cluster = hook.cluster or (ecs_table.cluster if ecs_table is not None else None)
    services = hook.services or (list(ecs_table.services) if ecs_table is not None else [])
    if not cluster or not services:
        raise HookError(
            "no cluster or services: set them on the hook or configure the ecs table",
            "roll each service back by hand (aws ecs update-service --task-definition <previous>)",
        )
    ecs = ctx.aws.client("ecs")
    lines: list[str] = []
    changed: dict[str, dict[str, str | None]] = {}
    try:
        described = ecs.describe_services(cluster=cluster, services=services)
        found = {s["serviceName"]: s for s in described["services"]}
        for name in services:
            if name not in found:
                raise HookError(
                    f"service {name} not found in cluster {cluster}",
                    f"check the hook's services; roll {name} back by hand",
                )
            lines.append(_one(ecs, cluster, name, found[name]["taskDefinition"], ctx, changed))
        if changed and hook.wait_stable and not ctx.dry_run:
            _wait_stable(ecs, cluster, list(changed), ctx)
            lines.append("rollout COMPLETED")
    except (ClientError, BotoCoreError) as exc:
        done = ", ".join(changed) or "none"
        raise HookError(
            f"ECS: {aws_error(exc)} (services switched so far: {done})",
            f"roll the remaining services of {cluster} back to their previous task definition",
        ) from None
    restored = {v["restored_release"] for v in changed.values() if v["restored_release"]}
    details: dict[str, Any] = {"services": changed}
    if len(restored) == 1:
        details["restored_release"] = restored.pop()
    return Done("; ".join(lines), bool(changed) and not ctx.dry_run, details)


def _one(
    ecs: Any,
    cluster: str,
    service: str,
    current: str,
    ctx: HookContext,
    changed: dict[str, dict[str, str | None]],
) -> str:
    family, number = _revision(current)
    active = _active_revisions(ecs, family)
    current_release = _release_of(ecs, current, service)
    if ctx.release is not None:
        failing = current_release == ctx.release
        why = f"release {current_release}, not the failing {ctx.release}"
    else:
        failing = bool(active) and _revision(active[0])[1] == number
        why = "older than the newest ACTIVE revision"
    if not failing:
        return f"{service} already on {family}:{number} ({why}): nothing to do"
    earlier = [a for a in active if _revision(a)[1] < number]
    if ctx.release is not None:
        earlier = [a for a in earlier if _release_of(ecs, a, service) != ctx.release]
    if not earlier:
        raise HookError(
            f"{service}: no ACTIVE revision of {family} before {number}",
            f"deploy the last good release of {service} by hand",
        )
    target = earlier[0]
    restored = _release_of(ecs, target, service)
    step = f"{family}:{number} -> {family}:{_revision(target)[1]} (release {restored})"
    changed[service] = {"from": current, "to": target, "restored_release": restored}
    if ctx.dry_run:
        return f"would update {service}: {step}"
    ecs.update_service(cluster=cluster, service=service, taskDefinition=target)
    return f"{service}: {step}"


def _wait_stable(ecs: Any, cluster: str, services: list[str], ctx: HookContext) -> None:
    """Poll every poll_s (<= 2 s) until each service's only deployment is COMPLETED."""
    while True:
        described = ecs.describe_services(cluster=cluster, services=services)["services"]
        waiting = [s["serviceName"] for s in described if not _stable(s)]
        if not waiting:
            return
        if ctx.left() <= 0:
            raise HookError(
                f"switched, but {', '.join(waiting)} not stable within the hook's timeout",
                f"watch {', '.join(waiting)} in the ECS console until the rollout completes",
            )
        ctx.sleep(ctx.poll_s)


def _stable(service: dict[str, Any]) -> bool:
    deployments = service.get("deployments", [])
    return (
        len(deployments) == 1
        and deployments[0].get("rolloutState", "COMPLETED") == "COMPLETED"
        and service.get("runningCount") == service.get("desiredCount")
    )
