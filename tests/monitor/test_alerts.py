"""Alerting without storms: one alert after N failures in a row, one recovery, state on disk."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from verify.monitor.alerts import AlertState
from verify.monitor.iteration import ITERATION_CHECK, Iteration, Sample

T0 = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def iteration(n: int, **statuses: str) -> Iteration:
    samples = tuple(
        Sample(check, status, 5.0, f"{check} {status}") for check, status in statuses.items()
    )
    return Iteration(n, "local", T0, 1.0, "pass", "", 0, samples)


def run(state: AlertState, n: int, after: int = 3, **statuses: str) -> list[tuple[str, str]]:
    events = state.update(iteration(n, **statuses), after)
    for event in events:
        state.delivered(event)
    return [(e.kind, e.check) for e in events]


def test_one_alert_after_n_failures_and_one_recovery() -> None:
    state = AlertState()
    assert run(state, 1, api="failed", ecs="passed") == []
    assert run(state, 2, api="failed", ecs="passed") == []
    assert run(state, 3, api="failed", ecs="passed") == [("alert", "api")]
    assert run(state, 4, api="error", ecs="passed") == []  # still down: no storm
    assert run(state, 5, api="failed", ecs="passed") == []
    assert run(state, 6, api="passed", ecs="passed") == [("recovery", "api")]
    assert run(state, 7, api="passed", ecs="passed") == []


def test_a_blip_never_alerts() -> None:
    state = AlertState()
    for n in range(10):
        status = "failed" if n % 3 == 0 else "passed"
        assert run(state, n, api=status) == []


def test_skips_neither_count_nor_reset() -> None:
    state = AlertState()
    run(state, 1, api="failed")
    run(state, 2, api="failed")
    assert run(state, 3, api="skipped") == []
    assert run(state, 4, api="failed") == [("alert", "api")]


def test_state_survives_separate_runs(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    for n in (1, 2):
        state = AlertState.load(path)
        assert run(state, n, api="failed") == []
        state.save(path)
    state = AlertState.load(path)
    assert run(state, 3, api="failed") == [("alert", "api")]
    state.save(path)
    state = AlertState.load(path)
    assert run(state, 4, api="passed") == [("recovery", "api")]


def test_an_undelivered_alert_is_tried_again_and_sent_once() -> None:
    state = AlertState()
    run(state, 1, api="failed")
    run(state, 2, api="failed")
    lost = state.update(iteration(3, api="failed"), 3)  # delivery failed: not marked
    assert [e.kind for e in lost] == ["alert"]
    assert run(state, 4, api="failed") == [("alert", "api")]
    assert run(state, 5, api="failed") == []


def test_an_undelivered_recovery_is_tried_again() -> None:
    state = AlertState()
    for n in (1, 2, 3):
        run(state, n, api="failed")
    assert [e.kind for e in state.update(iteration(4, api="passed"), 3)] == ["recovery"]
    assert run(state, 5, api="passed") == [("recovery", "api")]
    assert run(state, 6, api="passed") == []


def test_an_unreadable_state_file_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("{not json")
    assert AlertState.load(path).checks == {}


def test_an_iteration_that_could_not_observe_alerts_as_itself() -> None:
    state = AlertState()
    broken = Iteration(1, "local", T0, 1.0, "error", "the run wrote no verdict", 3, finished=False)
    kinds = []
    for _ in range(3):
        events = state.update(broken, 3)
        kinds += [(e.kind, e.check, e.status) for e in events]
        for event in events:
            state.delivered(event)
    assert kinds == [("alert", ITERATION_CHECK, "error")]


def test_an_iteration_that_ran_no_check_alerts_as_itself() -> None:
    state = AlertState()
    empty = Iteration(1, "local", T0, 1.0, "error", "zero gating checks", 5)  # a final verdict
    events = []
    for _ in range(3):
        events += state.update(empty, 3)
    assert [(e.kind, e.check) for e in events] == [("alert", ITERATION_CHECK)]
