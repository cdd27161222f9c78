"""Database probes (SQL + RDS + CloudWatch): time for one primary with 1 vs 3 streaming replicas.

Starts a sandbox with its AWS side and its real PostgreSQL primary + replica, adds two more real
replicas (pg_basebackup) and their RDS records, then runs the rds and db checks (`-m "smoke or
deep"`) RUNS times per configuration: replica lag from the primary's pg_stat_replication, and
from CloudWatch ReplicaLag. Prints, per configuration, the probes' wall time (first start to last
end, inside the run), the slowest probe, the sum of probe durations, the SQL sessions and the AWS
API calls. Then times the probe functions themselves, warm (imports and clients done, fresh SQL
sessions each time), for 1 and 3 replicas. Also prints the PostgreSQL part's cold start.

    python bench/database.py [--runs 3] [--latency-ms 0]
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
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[1]
MONITOR = "secretsmanager:/mobilytics/local/verify/database-monitor-url"
PRIMARY, REPLICA = "mobilytics-local", "mobilytics-local-replica-1"
EXTRA = ["mobilytics-local-replica-2", "mobilytics-local-replica-3"]

HEADER = """
[environments.{name}]
sandbox = true
aws = {{ region = "eu-west-1", endpoint_url = "sandbox:aws", account_id = "123456789012" }}
thresholds = {{ replica_lag_bytes = 1048576 }}
rds = {{ instance = "{primary}", replicas = {replicas} }}

[environments.{name}.db]
url = "{monitor}#primary"
expected_migration = "20261118163000_add_trip_segments"
lag_window_s = 60
"""


def environments_file(directory: Path) -> Path:
    """Four environments: {1, 3} replicas x lag from {the primary, CloudWatch}."""
    blocks = []
    for count in (1, 3):
        names = [REPLICA, *EXTRA][:count]
        for lag in ("primary", "cloudwatch"):
            name = f"r{count}-{lag}"
            blocks.append(
                HEADER.format(
                    name=name, primary=PRIMARY, replicas=json.dumps(names), monitor=MONITOR
                )
            )
            for replica in names:
                url = (
                    f"{MONITOR}#{REPLICA}"
                    if replica == REPLICA
                    else f"env:BENCH_{replica.upper().replace('-', '_')}"
                )
                blocks.append(
                    f'[environments.{name}.db.replicas.{replica}]\nurl = "{url}"\nlag = "{lag}"\n'
                )
    path = directory / "environments.toml"
    path.write_text("\n".join(blocks))
    return path


def add_replicas(state: Any) -> dict[str, str]:
    """Two more real streaming replicas of the sandbox's primary, known to RDS; their URLs."""
    from verify.sandbox import pg_cluster as pg
    from verify.sandbox.access import aws_client
    from verify.sandbox.parts.postgres import Cluster

    cluster = Cluster(state.parts["postgres"])
    monitor = json.loads(
        aws_client(state, "secretsmanager").get_secret_value(SecretId=MONITOR.split(":", 1)[1])[
            "SecretString"
        ]
    )
    rds = aws_client(state, "rds")
    urls = {}
    for replica in EXTRA:
        data = cluster.dir(replica)
        pg.base_backup(
            cluster.runner,
            cluster.sockets,
            cluster.port("primary"),
            data,
            replica.replace("-", "_"),
        )
        port = pg.free_port()
        conf = pg.server_conf(port, cluster.sockets, {"cluster_name": f"'{replica}'"})
        pg.write_as(cluster.runner, data / "postgresql.conf", conf, append=True)
        state.parts["postgres"].data["processes"][replica] = pg.start(
            cluster.runner, data, cluster.root / f"{replica}.log"
        )
        rds.create_db_instance_read_replica(
            DBInstanceIdentifier=replica,
            SourceDBInstanceIdentifier=PRIMARY,
            DBInstanceClass="db.r6g.large",
        )
        parts = urlsplit(monitor[REPLICA])
        netloc = parts.netloc.rsplit(":", 1)[0] + f":{port}"
        urls[f"BENCH_{replica.upper().replace('-', '_')}"] = urlunsplit(
            parts._replace(netloc=netloc)
        )
    return urls


def stop_replicas(state: Any) -> None:
    from verify.sandbox import pg_cluster as pg
    from verify.sandbox.parts.postgres import Cluster

    cluster = Cluster(state.parts["postgres"])
    for replica in EXTRA:
        pid = state.parts["postgres"].data["processes"].pop(replica, None)
        if pid is not None:
            pg.stop(pid, cluster.dir(replica))


def run(
    env: str, envfile: Path, reports: Path, sandbox: Path, urls: dict[str, str]
) -> dict[str, Any]:
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--env={env}",
        f"--environments={envfile}", "-m", "smoke or deep", f"--reports-dir={reports}",
    ]  # fmt: skip
    proc = subprocess.run(
        command,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **urls, "VERIFY_SANDBOX_DIR": str(sandbox)},
    )
    verdict: dict[str, Any] = json.loads((reports / "verdict.json").read_text())
    if verdict["verdict"] != "pass":
        print(proc.stdout[-3000:], file=sys.stderr)
    return verdict


def warm(state: Any, urls: dict[str, str], count: int, repeat: int = 7) -> dict[str, float]:
    """Median seconds of the probe functions themselves: SQL, RDS, CloudWatch, and all at once."""
    from concurrent.futures import ThreadPoolExecutor

    from psycopg import sql

    from verify.probes import migrations, postgres
    from verify.probes.aws import rds as rds_probe
    from verify.sandbox.access import aws_client

    monitor = json.loads(
        aws_client(state, "secretsmanager").get_secret_value(SecretId=MONITOR.split(":", 1)[1])[
            "SecretString"
        ]
    )
    names = [REPLICA, *EXTRA][:count]
    endpoints = {"primary": monitor["primary"], REPLICA: monitor[REPLICA]}
    endpoints |= {r: urls[f"BENCH_{r.upper().replace('-', '_')}"] for r in EXTRA}
    rds, cloudwatch = aws_client(state, "rds"), aws_client(state, "cloudwatch")
    read = sql.SQL("SELECT 1 FROM public._prisma_migrations LIMIT 1")

    def one_sql(endpoint: str) -> None:
        session = postgres.connect(
            endpoint, endpoints[endpoint], timeout_s=5, statement_timeout_s=5
        )
        try:
            if endpoint == "primary":
                postgres.observe_primary(session)
                migrations.observe_migrations(session, "public", "_prisma_migrations")
            else:
                postgres.observe_replica(session, read)
        finally:
            session.close()

    def sql_probes() -> None:
        with ThreadPoolExecutor(1 + count) as pool:
            list(pool.map(one_sql, ["primary", *names]))

    def rds_probes() -> None:
        rds_probe.observe_instances(rds, [PRIMARY, *names])
        rds_probe.observe_automated_backups(rds, PRIMARY)

    def cloudwatch_probe() -> None:
        rds_probe.observe_replica_lag(cloudwatch, names, 60)

    def together() -> None:
        with ThreadPoolExecutor(3) as pool:
            for future in [pool.submit(f) for f in (sql_probes, rds_probes, cloudwatch_probe)]:
                future.result()

    timings: dict[str, float] = {}
    for label, call in (
        ("sql", sql_probes), ("rds", rds_probes), ("cloudwatch", cloudwatch_probe), ("all", together),
    ):  # fmt: skip
        call()  # warm-up: imports, clients, connection pools
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            call()
            samples.append(time.perf_counter() - started)
        timings[label] = statistics.median(samples)
    return timings


def summary(verdict: dict[str, Any]) -> dict[str, Any]:
    probes = verdict["probes"]
    start = min(p["started_s"] for p in probes)
    end = max(p["started_s"] + p["duration_s"] for p in probes)
    slowest = max(probes, key=lambda p: p["duration_s"])
    return {
        "wall": end - start,
        "slowest": slowest,
        "sum": sum(p["duration_s"] for p in probes),
        "verdict": verdict["verdict"],
        "aws_calls": verdict["aws_calls"],
        "checks": sum(c["status"] != "skipped" for c in verdict["checks"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency-ms", type=int, default=0, help="injected on every AWS call")
    args = parser.parse_args()

    from verify import sandbox

    with tempfile.TemporaryDirectory(prefix="verify-bench-db-") as tmp:
        directory = Path(tmp)
        where = directory / "sandbox"
        started = time.perf_counter()
        state = sandbox.up(where, parts=["postgres"], progress=lambda line: None)
        up_s = time.perf_counter() - started
        try:
            urls = add_replicas(state)
            if args.latency_ms:
                sandbox.up(
                    where,
                    parts=["postgres"],
                    latency_ms=args.latency_ms,
                    progress=lambda line: None,
                )
            envfile = environments_file(directory)
            results = {}
            for count in (1, 3):
                for lag in ("primary", "cloudwatch"):
                    name = f"r{count}-{lag}"
                    runs = [
                        summary(run(name, envfile, directory / f"{name}-{i}", where, urls))
                        for i in range(args.runs)
                    ]
                    results[(count, lag)] = runs
            warm_timings = {count: warm(state, urls, count) for count in (1, 3)}
        finally:
            stop_replicas(state)
            sandbox.down(where)
    report(results, state.parts["postgres"].data["start_s"], up_s, args.latency_ms)
    print()
    print("probe functions, warm (median of 7; fresh SQL sessions each time):")
    print(
        "replicas  SQL (primary + replicas, concurrent)  RDS (describe + backups)  CloudWatch  all at once"
    )
    for count, t in warm_timings.items():
        print(
            f"{count:<8}  {t['sql'] * 1000:>6.1f} ms{'':<29}{t['rds'] * 1000:>6.1f} ms{'':<16}"
            f"{t['cloudwatch'] * 1000:>6.1f} ms   {t['all'] * 1000:>6.1f} ms"
        )
    return 0


def report(
    results: dict[tuple[int, str], list[dict[str, Any]]], pg_s: float, up_s: float, latency_ms: int
) -> None:
    print(
        f"PostgreSQL part cold start (initdb, primary, pg_basebackup, replica, seed): {pg_s:.2f} s"
    )
    print(f"sandbox up with the aws and postgres parts: {up_s:.2f} s")
    print(f"injected latency per AWS call: {latency_ms} ms; SQL on loopback")
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load} (other users' work included)")
    print()
    header = (
        "replicas",
        "lag from",
        "verdicts",
        "probes wall (median)",
        "slowest probe",
        "sum",
        "SQL sessions",
        "AWS calls",
    )
    rows = []
    for (count, lag), runs in results.items():
        walls = [r["wall"] for r in runs]
        median = runs[walls.index(statistics.median_low(walls))]
        rows.append(
            (
                str(count),
                lag,
                ",".join(r["verdict"].upper() for r in runs),
                f"{median['wall']:.2f} s ({', '.join(f'{w:.2f}' for w in walls)})",
                f"{median['slowest']['key']} {median['slowest']['duration_s']:.2f} s",
                f"{median['sum']:.2f} s",
                str(1 + count),
                str(median["aws_calls"]),
            )
        )
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    sys.exit(main())
