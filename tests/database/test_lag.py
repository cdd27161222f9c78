"""Replication lag on the real primary + replica: an idle primary is no lag; the CloudWatch path."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import VerifyRun
from tests.database.conftest import LAG, MONITOR, REPLICA, sandbox_sql, wait_for

DB_TABLE = f"""
[environments.local.db]
url = "{MONITOR}#primary"
replicas = {{ {REPLICA} = {{ url = "{MONITOR}#{REPLICA}"{{extra}} }} }}
"""


def idle_for(state: Any) -> float:
    """Seconds since the replica replayed its last commit, while nothing waits to be replayed."""
    pending, age = sandbox_sql(
        state,
        "replica",
        "SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), "
        "extract(epoch FROM now() - pg_last_xact_replay_timestamp())",
    )
    return float(age) if pending == 0 and age is not None else 0.0


def test_an_idle_primary_longer_than_the_threshold_is_not_lag(
    db_env: Callable[..., VerifyRun], sandbox_state: Any
) -> None:
    # Nobody writes to the sandbox's primary: the replica's last replayed commit only ages.
    wait_for(
        "the replica's last replayed commit to be older than 3 s",
        lambda: idle_for(sandbox_state) > 3,
    )

    run = db_env(DB_TABLE.replace("{extra}", ""), thresholds="replica_lag_s = 1")

    lag = run.check(LAG)
    assert lag["status"] == "passed", run.output
    observed = lag["observed"]
    assert (observed["lag_bytes"], observed["lag_s"]) == (0, 0.0)
    # The replica-clock measure would have failed this healthy replica.
    assert observed["last_replayed_commit_age_s"] > 1
    assert run.outcome == "pass", run.output


def replica_lag_metric(sandbox_aws: Callable[[str], Any], window_s: int) -> float | None:
    """The maximum CloudWatch ReplicaLag of the sandbox's replica over the last `window_s`."""
    now = datetime.now(UTC)
    answer = sandbox_aws("cloudwatch").get_metric_data(
        MetricDataQueries=[
            {
                "Id": "lag",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/RDS",
                        "MetricName": "ReplicaLag",
                        "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": REPLICA}],
                    },
                    "Period": 60,
                    "Stat": "Maximum",
                },
            }
        ],
        StartTime=now - timedelta(seconds=window_s),
        EndTime=now + timedelta(seconds=1),
    )
    values = answer["MetricDataResults"][0]["Values"]
    return max(values) if values else None


def test_cloudwatch_replica_lag_is_the_real_lag_of_the_sandbox_replica(
    db_env: Callable[..., VerifyRun],
    broken: Callable[[str], None],
    sandbox_aws: Callable[[str], Any],
    sandbox_dir: Any,
) -> None:
    from verify.sandbox import heal

    table = DB_TABLE.replace("{extra}", ', lag = "cloudwatch"') + "lag_window_s = 10\n"
    # Seconds decide here: the CloudWatch path is about the metric, not the replica's bytes.
    thresholds = "replica_lag_s = 3, replica_lag_bytes = 1073741824"

    def calm() -> bool:
        return (replica_lag_metric(sandbox_aws, 10) or 0) <= 3

    wait_for("ReplicaLag to stay under 3 s for 10 s (an earlier test's lag ages out)", calm)
    healthy = db_env(table, thresholds=thresholds)
    assert healthy.check(LAG)["status"] == "passed", healthy.output
    assert healthy.check(LAG)["observed"]["source"] == "cloudwatch"

    broken("replica-lag")
    wait_for("the sandbox to publish the paused replica's lag", lambda: not calm())
    lagging = db_env(table, thresholds=thresholds)
    failed = lagging.check(LAG)
    assert failed["status"] == "failed", lagging.output
    assert (
        "s behind (cloudwatch) (WAL replay paused on the replica); expected <= 3 s"
        in failed["message"]
    )

    heal(sandbox_dir, "replica-lag")
    wait_for("the lag to age out of the 10 s window", calm)
    assert db_env(table, thresholds=thresholds).check(LAG)["status"] == "passed"
