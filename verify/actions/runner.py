"""After the verdict: the environment's hooks, once per run, each bounded by its own timeout.

Order: rollback hooks (ECS, S3, CloudFront, command) on a triggering verdict, then the
re-verification (auto mode), then the notifiers (CodeDeploy, webhook, SNS), which then know
what the rollback did. A hook that fails is recorded with what is left to do by hand.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from verify.actions.base import Done, HookContext, HookError, HookResult, Status
from verify.actions.models import NOTIFY_KINDS, hook_name, runs_on
from verify.redact import REDACT
from verify.text import one_line

if TYPE_CHECKING:
    from verify.actions.models import HookBase

Action = Callable[[Any, HookContext], Done]
Rerun = Callable[[str | None], dict[str, Any]]


def action_of(kind: str) -> Action:
    """The function behind a hook type (imported only when a hook of that type runs)."""
    if kind == "ecs-previous-task-definition":
        from verify.actions.ecs import roll_back

        return roll_back
    if kind == "s3-asset-set":
        from verify.actions.s3_assets import restore

        return restore
    if kind == "cloudfront-invalidate":
        from verify.actions.cloudfront import invalidate

        return invalidate
    if kind == "codedeploy":
        from verify.actions.codedeploy import report

        return report
    if kind == "command":
        from verify.actions.command import run_command

        return run_command
    if kind == "webhook":
        from verify.actions.webhook import post

        return post
    from verify.actions.sns import publish

    return publish


def run_one(hook: HookBase, ctx: HookContext) -> HookResult:
    """Run `hook` on a daemon thread; past its timeout it is recorded failed and left behind."""
    kind, name = str(hook.type), hook_name(hook)
    started = time.monotonic()
    ctx = replace(ctx, ends=started + hook.timeout_s)
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["done"] = action_of(kind)(hook, ctx)
        except HookError as exc:
            box["error"] = (exc.message, exc.manual)
        except Exception as exc:  # a hook's bug must not take the gate down: record it
            box["error"] = (
                f"{type(exc).__name__}: {one_line(str(exc), 200)}",
                f"finish {name} by hand",
            )

    worker = threading.Thread(target=work, name=f"verify-hook-{name}", daemon=True)
    worker.start()
    worker.join(hook.timeout_s + 1.0)
    took = time.monotonic() - started
    if worker.is_alive():
        box["error"] = (
            f"did not finish within its timeout ({hook.timeout_s:g} s)",
            f"check what {name} did and finish it by hand",
        )
    if "error" in box:
        message, manual = box["error"]
        return HookResult(name, kind, "failed", REDACT(message), took, manual=REDACT(manual))
    done: Done = box["done"]
    status: Status = "dry-run" if ctx.dry_run else "ok"
    return HookResult(
        name, kind, status, REDACT(done.message), took, done.changed, None, done.details
    )


def summary(ctx: HookContext, results: list[HookResult], second: dict[str, Any] | None) -> str:
    """One paragraph for people: verdict, what each hook did, the re-verification."""
    release = f" release {ctx.release}" if ctx.release else ""
    text = f"verify {ctx.env.name}{release}: {ctx.outcome.upper()} ({ctx.reason})."
    if results:
        text += (
            " Rollback: " + "; ".join(f"{r.name} {r.status}: {r.message}" for r in results) + "."
        )
    if second is not None:
        text += f" Re-verify: {str(second.get('verdict')).upper()} ({second.get('reason')})."
    return REDACT(text)


def run_hooks(mode: str, ctx: HookContext, rerun: Rerun | None) -> dict[str, Any]:
    """Everything the rollback did, for verdict.json's `rollback` section."""
    config = ctx.env.spec.rollback
    section: dict[str, Any] = {"mode": mode, "triggered": False, "hooks": []}
    if mode == "off":
        return section
    triggered = ctx.outcome in config.on
    due = [h for h in config.hooks if runs_on(h, ctx.outcome, list(config.on))]
    actions = [h for h in due if h.type not in NOTIFY_KINDS]
    notifiers = [h for h in due if h.type in NOTIFY_KINDS]
    ctx = replace(ctx, dry_run=mode == "dry-run")
    results = [run_one(hook, ctx) for hook in actions]
    second = None
    if triggered and mode == "auto" and config.reverify and rerun is not None:
        restored = {r.details.get("restored_release") for r in results} - {None}
        second = rerun(restored.pop() if len(restored) == 1 else None)
    ctx = replace(ctx, previous=results, summary=summary(ctx, results, second))
    results += [run_one(hook, ctx) for hook in notifiers]
    failed = [r for r in results if r.status == "failed"]
    section.update(
        triggered=triggered,
        hooks=[r.to_json() for r in results],
        ok=not failed,
        manual=[f"{r.name}: {r.manual}" for r in failed if r.manual],
        reverify=second,
        summary=ctx.summary,
    )
    return section


def rollback_lines(section: dict[str, Any]) -> list[tuple[str, str]]:
    """(line, colour) for the terminal: one line per hook, what is left by hand, the re-verify."""
    if section.get("mode", "off") == "off" or (
        not section.get("hooks") and not section.get("triggered")
    ):
        return []
    head = "ROLLBACK (dry-run: nothing changed)" if section["mode"] == "dry-run" else "ROLLBACK"
    lines = [(f"{head}: mode={section['mode']} triggered={str(section['triggered']).lower()}", "")]
    colours = {"ok": "green", "dry-run": "yellow", "skipped": "yellow", "failed": "red"}
    for hook in section["hooks"]:
        lines.append(
            (
                f"  {hook['status'].upper():<7} {hook['name']} ({hook['duration_s']:.2f}s): "
                f"{hook['message']}",
                colours.get(hook["status"], ""),
            )
        )
        if hook.get("manual"):
            lines.append((f"          left to do by hand: {hook['manual']}", "red"))
    second = section.get("reverify")
    if second:
        colour = "green" if second.get("verdict") == "pass" else "red"
        lines.append(
            (
                f"RE-VERIFY: {str(second.get('verdict')).upper()} ({second.get('reason')}) "
                f"release={second.get('release') or '-'} in {second.get('duration_s', 0):.1f}s",
                colour,
            )
        )
    return [(REDACT(line), colour) for line, colour in lines]
