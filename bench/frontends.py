"""Frontend checks: browser launch, a warm route check, and the whole frontend section's wall time.

Starts the sandbox's frontends and edge parts (Next.js builds come from the cache; the first run
on a machine builds them), then prints:
- sandbox start of those parts (warm cache);
- Chromium launch time (Playwright + Debian's chromium), median of --launches;
- a warm route check (fresh context, trace on, load + network idle, timings), median of
  --visits per route over the 2 surfaces x 3 routes;
- the whole frontend section: `pytest --env=local -m "smoke or deep"` of the frontend checks
  (24 checks, 6 routes in Chromium), median wall time of --runs.

    python bench/frontends.py [--launches 3] [--visits 5] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHECKS = REPO / "verify" / "checks" / "test_frontends.py"
HEAD = """[environments.local]
sandbox = true
aws = { region = "eu-west-1", endpoint_url = "sandbox:aws", account_id = "123456789012" }
"""


def _toml(value: object) -> str:
    """A TOML value for what the frontends tables hold (strings, bools, lists, flat tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return str(value)


def environments_file(directory: Path) -> Path:
    """The repository's `local` frontends tables alone (the bench starts only their parts)."""
    import tomllib

    local = tomllib.loads((REPO / "environments.toml").read_text())["environments"]["local"]
    lines = [HEAD]
    for surface, table in local["frontends"].items():
        lines.append(f"[environments.local.frontends.{surface}]")
        lines += [f"{key} = {_toml(value)}" for key, value in table.items()]
    path = directory / "environments.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--launches", type=int, default=3)
    parser.add_argument("--visits", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from verify import sandbox
    from verify.probes import browser
    from verify.probes.frontend_http import join

    with tempfile.TemporaryDirectory(prefix="verify-bench-") as tmp:
        directory = Path(tmp) / "sandbox"
        directory.mkdir()
        started = time.perf_counter()
        state = sandbox.up(directory, parts=["frontends", "edge"], progress=lambda line: None)
        print(
            f"sandbox start (aws, frontends, edge; builds cached): {time.perf_counter() - started:.2f} s"
        )
        try:
            launches = []
            for _ in range(args.launches):
                began = time.perf_counter()
                handle = browser.launch(["127.0.0.1"], [], 60)
                launches.append(time.perf_counter() - began)
                handle.close()
            print(
                f"browser launch: median {statistics.median(launches):.2f} s "
                f"(min {min(launches):.2f}, max {max(launches):.2f}; n={len(launches)})"
            )

            ca = state.endpoints["edge_ca"]
            handle = browser.launch(["127.0.0.1"], browser.spki_hashes(ca), 60)
            routes = {
                "support": ("/", "/tickets", "/dashboard"),
                "portal": ("/", "/trips", "/account"),
            }
            walls: list[float] = []
            try:
                for surface, paths in routes.items():
                    for path in paths:
                        url = join(state.endpoints[f"{surface}_edge"], path)
                        browser.visit(
                            handle,
                            surface,
                            path,
                            url,
                            timeout_s=30,
                            budget_ms=60_000,
                            ignore_https_errors=False,
                        )  # warm-up
                        for _ in range(args.visits):
                            run = browser.visit(
                                handle,
                                surface,
                                path,
                                url,
                                timeout_s=30,
                                budget_ms=60_000,
                                ignore_https_errors=False,
                            )
                            if run.status != 200:
                                raise SystemExit(f"{url}: {run.status} {run.error}")
                            walls.append(run.wall_ms / 1000)
            finally:
                handle.close()
            print(
                f"warm route check: median {statistics.median(walls):.2f} s "
                f"(p90 {statistics.quantiles(walls, n=10)[-1]:.2f}, max {max(walls):.2f}; "
                f"n={len(walls)}; goal <= 1.5 s)"
            )

            env = {k: v for k, v in os.environ.items() if not k.startswith(("VERIFY_", "PYTEST_"))}
            env["VERIFY_SANDBOX_DIR"] = str(directory)
            env["VERIFY_ENVIRONMENTS"] = str(environments_file(Path(tmp)))
            sections, verdicts = [], []
            for n in range(args.runs):
                reports = Path(tmp) / f"reports-{n}"
                began = time.perf_counter()
                proc = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "pytest",
                        "-p",
                        "no:cacheprovider",
                        "-q",
                        "--env=local",
                        "-m",
                        "smoke or deep",
                        f"--release={state.release}",
                        f"--reports-dir={reports}",
                        str(CHECKS),
                    ],
                    cwd=REPO,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=600,
                    check=False,
                )
                sections.append(time.perf_counter() - began)
                verdict = json.loads((reports / "verdict.json").read_text())
                if verdict["verdict"] != "pass":
                    raise SystemExit(
                        f"frontend section: {verdict['verdict']}\n{proc.stdout[-3000:]}"
                    )
                verdicts.append(verdict["duration_s"])
            print(
                f"frontend section (2 surfaces x 3 routes, 24 checks): median wall "
                f"{statistics.median(sections):.2f} s per pytest run "
                f"(verdict duration_s median {statistics.median(verdicts):.2f} s; n={len(sections)})"
            )
        finally:
            sandbox.down(directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
