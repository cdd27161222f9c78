"""How lag is judged from what the primary and the replica report (no server needed)."""

from __future__ import annotations

import pytest

from verify.probes.aws.rds import LagMetric
from verify.probes.errors import ProbeError
from verify.probes.postgres import (
    PrimaryObservation,
    ReplicaObservation,
    Sender,
    connect,
    libpq_url,
)
from verify.probes.replication import from_metric, from_primary

REPLICA = "mobilytics-prod-replica-1"


def primary(*senders: Sender, refused: str | None = None) -> PrimaryObservation:
    return PrimaryObservation(
        "primary", "db:5432/app", refused, 3.0, 0.4, False, True, "15.8", senders
    )


def sender(lag_bytes: int | None, replay_lag_s: float | None, state: str = "streaming") -> Sender:
    return Sender(
        REPLICA, "mobilytics_prod_replica_1", "10.0.2.15", state, "async", lag_bytes, replay_lag_s
    )


def replica(pending: int, age_s: float | None, paused: bool = False) -> ReplicaObservation:
    return ReplicaObservation(
        REPLICA, "replica:5432/app", None, 3.0, True, "streaming", pending, paused, age_s, None
    )


def test_an_idle_primary_is_no_lag_however_old_the_last_commit() -> None:
    # Nothing written for an hour: the replica's last replayed commit is an hour old, and
    # replay_lag went NULL once it caught up. Nothing at all is behind.
    lag = from_primary(REPLICA, (REPLICA, None), primary(sender(0, None)), replica(0, 3600.0))
    assert (lag.problem, lag.lag_bytes, lag.lag_s) == (None, 0, 0.0)
    assert lag.replica_clock_s == 3600.0  # what the naive measure would have called lag


def test_a_paused_replay_counts_bytes_and_the_age_of_what_waits() -> None:
    # Replay paused: the primary's replay_lag froze at its last value (0.4 s); the bytes and
    # the replica's own view (received, not replayed, for 95 s) tell the truth.
    lag = from_primary(
        REPLICA,
        (REPLICA, None),
        primary(sender(5_300_000, 0.4)),
        replica(5_300_000, 95.0, paused=True),
    )
    assert (lag.lag_bytes, lag.lag_s, lag.replay_paused) == (5_300_000, 95.0, True)


def test_primary_replay_lag_counts_while_bytes_are_behind() -> None:
    lag = from_primary(REPLICA, (REPLICA, None), primary(sender(40_000, 2.5)), None)
    assert (lag.lag_bytes, lag.lag_s) == (40_000, 2.5)


def test_a_replica_without_walsender_is_not_streaming_and_names_what_is_there() -> None:
    other = Sender(
        "walreceiver", "rds_eu_west_1_db_abc", "10.0.2.15", "streaming", "async", 0, None
    )
    lag = from_primary(REPLICA, (REPLICA, None), primary(other), None)
    assert lag.problem is not None and lag.problem.startswith("not streaming")
    assert "walreceiver (slot rds_eu_west_1_db_abc)" in lag.problem


def test_the_slot_matches_when_the_application_name_does_not() -> None:
    found = Sender(
        "walreceiver", "rds_eu_west_1_db_abc", "10.0.2.15", "streaming", "async", 0, None
    )
    lag = from_primary(REPLICA, (REPLICA, "rds_eu_west_1_db_abc"), primary(found), None)
    assert (lag.problem, lag.lag_bytes) == (None, 0)


def test_catchup_state_and_a_refusing_primary_are_problems() -> None:
    assert from_primary(
        REPLICA, (REPLICA, None), primary(sender(0, None, "catchup")), None
    ).problem == ("walsender state catchup")
    refused = from_primary(REPLICA, (REPLICA, None), primary(refused="connection refused"), None)
    assert refused.problem == "the primary db:5432/app refused connections (connection refused)"


def test_cloudwatch_lag_is_the_window_maximum_and_missing_data_is_a_problem() -> None:
    assert from_metric(REPLICA, LagMetric(REPLICA, 41.5, 5, 300), replica(0, 900.0)).lag_s == 41.5
    empty = from_metric(REPLICA, LagMetric(REPLICA, None, 0, 300), None)
    assert empty.problem == (
        "no ReplicaLag datapoint in the last 300 s (not a replica, or RDS stopped reporting)"
    )
    stopped = from_metric(REPLICA, LagMetric(REPLICA, -1.0, 1, 300), None)
    assert stopped.problem == "ReplicaLag -1: RDS reports replication is not running"


def test_prisma_parameters_are_dropped_for_libpq() -> None:
    url = "postgresql://app:pw@db.internal:5432/mobilytics?schema=public&connection_limit=5&sslmode=require"
    assert libpq_url(url) == "postgresql://app:pw@db.internal:5432/mobilytics?sslmode=require"


@pytest.mark.parametrize("mode", ["disable", "allow", "prefer"])
def test_a_password_is_never_sent_unencrypted_off_this_machine(mode: str) -> None:
    secret = "s3cr3t-Pa55word"
    with pytest.raises(ProbeError) as raised:
        connect(
            "primary",
            f"postgresql://verify_monitor:{secret}@db.internal:5432/mobilytics?sslmode={mode}",
            timeout_s=1,
            statement_timeout_s=1,
        )
    assert f"sslmode={mode} could send the password unencrypted" in raised.value.cause
    assert secret not in str(raised.value)
