"""A replica's lag, measured the way that does not lie on an idle primary.

`now() - pg_last_xact_replay_timestamp()` on a replica is the age of the last commit it
replayed: on a primary nobody writes to, it grows forever while nothing at all is behind. So:

- bytes: the primary's `pg_current_wal_lsn() - replay_lsn` for the replica's walsender (0 when
  every byte written was replayed, however old the last commit);
- seconds: the primary's `replay_lag` while bytes are behind, and, from the replica itself, the
  age of the last replayed commit only while received WAL waits to be replayed (a paused or
  stuck replay, which the primary's replay_lag does not show: it freezes at its last value);
- with `lag = "cloudwatch"`: RDS's own ReplicaLag metric, maximum over the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from verify.probes.aws.rds import LagMetric
    from verify.probes.postgres import PrimaryObservation, ReplicaObservation, Sender


@dataclass(frozen=True)
class ReplicaLag:
    replica: str
    source: str  # primary | cloudwatch
    problem: str | None  # why the replica is not (measurably) replicating: FAIL
    lag_bytes: int | None
    lag_s: float | None
    state: str | None  # the walsender's state
    replica_clock_s: (
        float | None
    )  # now() - last replayed commit, as the replica says (not used alone)
    replay_paused: bool | None  # the replica says its WAL replay is paused
    evidence: tuple[str, ...]


def _side_lines(side: ReplicaObservation | None) -> list[str]:
    if side is None:
        return ["replica side: not observed"]
    if side.unreachable:
        return [f"replica {side.target}: {side.unreachable}"]
    return [
        f"replica {side.target}: in_recovery={side.in_recovery} receiver={side.receiver} "
        f"pending_replay_bytes={side.pending_bytes} replay_paused={side.paused} "
        f"last_replayed_commit_age_s={side.replay_age_s}"
    ]


def _clock(side: ReplicaObservation | None) -> tuple[float | None, bool | None]:
    """(age of the last replayed commit, replay paused) as the replica reports them."""
    if side is None or side.unreachable is not None:
        return None, None
    return side.replay_age_s, side.paused


def _pending_s(side: ReplicaObservation | None) -> float:
    """Seconds the replica is behind on WAL it already received (0 when nothing waits)."""
    if side is None or side.unreachable or not side.pending_bytes or side.pending_bytes <= 0:
        return 0.0
    return max(side.replay_age_s or 0.0, 0.0)


def from_primary(
    replica: str,
    names: tuple[str, str | None],
    primary: PrimaryObservation,
    side: ReplicaObservation | None,
) -> ReplicaLag:
    """Lag of `replica` from the primary's walsender (matched by application_name or slot)."""
    application_name, slot = names
    clock, paused = _clock(side)
    lines = _side_lines(side)

    def failed(problem: str, sender: Sender | None = None) -> ReplicaLag:
        state = sender.state if sender else None
        return ReplicaLag(
            replica, "primary", problem, None, None, state, clock, paused, tuple(lines)
        )

    if primary.unreachable:
        return failed(f"the primary {primary.target} refused connections ({primary.unreachable})")
    if primary.in_recovery:
        return failed(f"the primary URL reaches {primary.target}, which is in recovery (a replica)")
    lines = [
        f"walsender {s.application_name} slot={s.slot} client={s.client} state={s.state} "
        f"sync={s.sync_state} lag_bytes={s.lag_bytes} replay_lag_s={s.replay_lag_s}"
        for s in primary.senders
    ] + lines
    sender = next(
        (
            s
            for s in primary.senders
            if s.application_name == application_name or (slot is not None and s.slot == slot)
        ),
        None,
    )
    match = f"application_name {application_name!r}" + (f" or slot {slot!r}" if slot else "")
    if sender is None:
        seen = ", ".join(f"{s.application_name} (slot {s.slot})" for s in primary.senders)
        hint = f" (it has: {seen}; set db.replicas.<name>.application_name or slot)" if seen else ""
        return failed(f"not streaming: no walsender on the primary for {match}{hint}")
    if sender.state != "streaming":
        return failed(f"walsender state {sender.state}", sender)
    lag_bytes = sender.lag_bytes if sender.lag_bytes is not None else None
    behind = lag_bytes is not None and lag_bytes > 0
    seconds = (sender.replay_lag_s or 0.0) if behind else 0.0
    seconds = max(seconds, _pending_s(side))
    return ReplicaLag(
        replica,
        "primary",
        None,
        lag_bytes,
        round(seconds, 3),
        sender.state,
        clock,
        paused,
        tuple(lines),
    )


def from_metric(
    replica: str, metric: LagMetric | None, side: ReplicaObservation | None
) -> ReplicaLag:
    """Lag of `replica` from CloudWatch ReplicaLag (bytes: what the replica has yet to replay)."""
    clock, paused = _clock(side)
    pending = side.pending_bytes if side is not None and side.unreachable is None else None
    window = metric.window_s if metric else 0
    lines = [
        f"cloudwatch AWS/RDS ReplicaLag {replica}: max {metric.max_s if metric else None} s over "
        f"{window} s ({metric.datapoints if metric else 0} datapoints)",
        *_side_lines(side),
    ]
    if metric is None or metric.max_s is None:
        problem = f"no ReplicaLag datapoint in the last {window} s (not a replica, or RDS stopped reporting)"
        return ReplicaLag(
            replica, "cloudwatch", problem, pending, None, None, clock, paused, tuple(lines)
        )
    if metric.max_s < 0:
        problem = "ReplicaLag -1: RDS reports replication is not running"
        return ReplicaLag(
            replica, "cloudwatch", problem, pending, None, None, clock, paused, tuple(lines)
        )
    seconds = max(metric.max_s, _pending_s(side))
    return ReplicaLag(
        replica, "cloudwatch", None, pending, round(seconds, 3), None, clock, paused, tuple(lines)
    )
