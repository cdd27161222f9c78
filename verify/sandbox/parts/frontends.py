"""Part `frontends`: the support and portal surfaces, real Next.js apps served by `next start`.

Both apps are built by the sandbox (verify.sandbox.webbuild, cached by content) at the release and
at the previous release; `next start -p PORT -H 127.0.0.1` serves each build on loopback under one
supervisor. The previous release's servers stand for the asset set an edge may still point at
(the edge part's stale-edge faults route to them). The SSR faults flip a mode file each app reads
on every request.
"""

from __future__ import annotations

import signal
import socket
from pathlib import Path
from typing import ClassVar

from verify.sandbox import procs, readyfile, webbuild
from verify.sandbox.part import Fault, PartContext, PartState
from verify.sandbox.supervise import start_supervised

READY = "frontends.ready.json"
START_TIMEOUT_S = 120.0
SURFACE = "support"  # the surface the faults act on
FAULTS = (
    Fault(
        "ssr-500",
        "support /tickets (pages router SSR) answers HTTP 500",
        "frontends.route[support:/tickets]",
        also=("frontends.ssr_content[support:/tickets]",),
    ),
    Fault(
        "ssr-console-error",
        "support /dashboard (app router SSR) logs a console error after hydration",
        "frontends.route[support:/dashboard]",
    ),
    Fault(
        "ssr-missing-content",
        "support /tickets renders its content only in the browser (not in the first HTML)",
        "frontends.ssr_content[support:/tickets]",
    ),
)
FAULT_NAMES = frozenset(f.name for f in FAULTS)


def free_port() -> int:
    """A free loopback port, picked right before a server binds it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def faults_file(dir: Path, app: str) -> Path:
    return dir / "frontends" / f"{app}.faults.json"


def write_faults(dir: Path, app: str, faults: list[str]) -> None:
    readyfile.write(faults_file(dir, app), {"faults": sorted(faults)})


class FrontendsPart:
    """Two Next.js apps at two releases, on loopback, behind the edge part."""

    name: ClassVar[str] = "frontends"
    after: ClassVar[tuple[str, ...]] = ()
    serves: ClassVar[tuple[str, ...]] = ("frontends",)
    faults: ClassVar[tuple[Fault, ...]] = FAULTS
    aws_extension: ClassVar[str | None] = None

    def start(self, ctx: PartContext) -> PartState:
        root, builds = webbuild.ensure([ctx.release, ctx.previous_release], ctx.progress)
        (ctx.dir / "frontends").mkdir(exist_ok=True)
        next_bin = str(root / "node_modules" / "next" / "dist" / "bin" / "next")
        children, ports, apps = [], {}, {}
        for generation, release in (("current", ctx.release), ("previous", ctx.previous_release)):
            for app in webbuild.APPS:
                name = app if generation == "current" else f"{app}-previous"
                write_faults(ctx.dir, name, [])
                port = ports[name] = free_port()
                app_dir = builds[release] / app
                apps[name] = {
                    "dir": str(app_dir),
                    "release": release,
                    "static": str(app_dir / ".next" / "static"),
                }
                children.append(
                    {
                        "name": name,
                        "argv": [
                            webbuild.tool("node"),
                            next_bin,
                            "start",
                            "-p",
                            str(port),
                            "-H",
                            "127.0.0.1",
                        ],
                        "cwd": str(app_dir),
                        "env": {
                            **webbuild.NODE_ENV,
                            "NODE_ENV": "production",
                            "VERIFY_FAULTS_FILE": str(faults_file(ctx.dir, name)),
                        },
                        "port": port,
                        "log": str(ctx.dir / "frontends" / f"{name}.log"),
                    }
                )
        log = ctx.dir / "frontends" / "supervise.log"
        ready = start_supervised(ctx.dir / READY, children, log, START_TIMEOUT_S)
        ctx.progress(
            "Next.js apps ready: "
            + ", ".join(
                f"{n} 127.0.0.1:{p}" for n, p in ports.items() if not n.endswith("-previous")
            )
        )
        return PartState(
            endpoints={f"{app}_origin": f"http://127.0.0.1:{ports[app]}" for app in webbuild.APPS},
            pids={"supervisor": ready["pid"]},
            data={"ports": ports, "apps": apps, "children": ready["children"]},
        )

    def stop(self, state: PartState) -> None:
        for pid in state.pids.values():
            # The supervisor stops next-server and nginx first: give it the time to.
            procs.stop(pid, signals=((signal.SIGTERM, 5.0), (signal.SIGKILL, 2.0)))

    def health(self, ctx: PartContext, state: PartState) -> str | None:
        pid = state.pids.get("supervisor")
        if pid is None or not procs.pid_alive(pid):
            return "Next.js supervisor died (see frontends/*.log)"
        return None

    def apply(self, ctx: PartContext, state: PartState, active: frozenset[str]) -> None:
        for app in (SURFACE, f"{SURFACE}-previous"):  # whichever release the edge points at
            write_faults(ctx.dir, app, sorted(active & FAULT_NAMES))
        state.faults = sorted(active)

    def active(self, ctx: PartContext, state: PartState) -> frozenset[str]:
        written = readyfile.read(faults_file(ctx.dir, SURFACE)) or {}
        return frozenset(written.get("faults", [])) & FAULT_NAMES
