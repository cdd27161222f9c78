"""Hook `command`: run an argv (no shell) with the verdict's path and outcome in its environment."""

from __future__ import annotations

import os
import subprocess
from typing import TYPE_CHECKING

from verify.actions.base import Done, HookContext, HookError
from verify.text import one_line

if TYPE_CHECKING:
    from verify.actions.models import CommandHook


def run_command(hook: CommandHook, ctx: HookContext) -> Done:
    shown = " ".join(hook.argv)
    if ctx.dry_run:
        return Done(f"would run: {shown}")
    env = {
        **os.environ,
        "VERIFY_VERDICT_PATH": str(ctx.verdict_path.absolute()),
        "VERIFY_VERDICT": ctx.outcome,
        "VERIFY_ENV": ctx.env.name,
        "VERIFY_RELEASE": ctx.release or "",
    }
    manual = f"run `{shown}` by hand (VERIFY_VERDICT_PATH={ctx.verdict_path})"
    try:
        done = subprocess.run(
            hook.argv,
            env=env,
            capture_output=True,
            text=True,
            timeout=max(ctx.left(), 0.1),
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise HookError(f"`{shown}` did not finish within {hook.timeout_s:g} s", manual) from None
    except OSError as exc:
        raise HookError(f"`{shown}` could not start: {exc.strerror or exc}", manual) from None
    lines = (done.stderr or done.stdout or "").strip().splitlines()
    last = one_line(lines[-1], 200) if lines else ""
    if done.returncode != 0:
        raise HookError(f"`{shown}` exited {done.returncode}: {last or 'no output'}", manual)
    return Done(f"ran `{shown}`" + (f": {last}" if last else ""), True)
