"""The Redis part's faults and normal states, each acting on the real server and workers."""

from __future__ import annotations

import secrets
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from verify.sandbox import procs
from verify.sandbox.part import Fault
from verify.sandbox.queues import jobs, server
from verify.sandbox.queues.jobs import HOLD_PREFIX, PREFIX, Producer
from verify.sandbox.queues.live import APP_SECRET, Live, wait_until
from verify.sandbox.queues.workers import of_queue

AGED_S = 600  # how old the backlog's jobs are (the lag threshold of local is 120 s)
BACKLOG_JOBS = 250  # more than local's queue_max_waiting (200)
FAILED_JOBS = 30  # more than local's queue_max_failed (10) within the window
MEMORY_FILL = 0.9  # of maxmemory; local's redis_memory_max_ratio is 0.8
BALLAST = "verify-sandbox:ballast"
CANARY = "queues.canary"

FAULTS = (
    Fault("queue-backlog", f"emails: workers busy, {BACKLOG_JOBS} jobs waiting since {AGED_S} s",
          "queues.lag[emails]", also=("queues.backlog[emails]",)),
    Fault("queue-paused", "imports paused (Queue.pause)", "queues.not_paused[imports]"),
    Fault("queue-no-workers", "notifications: every worker stopped",
          "queues.workers_present[notifications]", also=(CANARY,)),
    Fault("queue-stalled", "imports: its worker hung (SIGSTOP) holding a job; the lock expired",
          "queues.stalled[imports]"),
    Fault("queue-failed-spike", f"imports: {FAILED_JOBS} jobs failed just now",
          "queues.failed_rate[imports]"),
    Fault("queue-delayed-overdue",
          "mirror-refresh: worker saturated, delayed jobs due 9 min ago not promoted",
          "queues.no_overdue_delayed[mirror-refresh]"),
    Fault("redis-down", "redis-server stopped (connection refused)", "redis.reachable",
          also=("api.health",)),
    Fault("redis-auth-wrong", "app-api's Redis password changed (ACL); the secret no longer matches",
          "redis.reachable", also=("api.health",)),
    Fault("redis-memory-high", f"a ballast key fills Redis to {MEMORY_FILL:.0%} of maxmemory",
          "redis.memory"),
    Fault("queue-delayed-future", "normal: 20 notifications created 2 h ago, due in 1 h", "every check",
          expect="pass"),
    Fault("queue-idle", "normal: mirror-refresh obliterated, no job and no history at all", "every check",
          expect="pass"),
    Fault("queue-history", "normal: emails keeps 150 completed and 5 failed jobs (removeOn* settings)",
          "every check", expect="pass"),
    Fault("worker-restarting", "normal: py-emails stopped as in a deploy; node-emails still connected",
          "every check", expect="pass"),
)  # fmt: skip
NAMES = frozenset(f.name for f in FAULTS)


@dataclass(frozen=True)
class Switch:
    on: Callable[[Live, Any], None]
    off: Callable[[Live, Any], None]


def _producer(live: Live, work: Callable[[Producer], Any]) -> Any:
    return jobs.run(live.app_options, work)


def _counts(admin: Any, queue: str) -> dict[str, int]:
    base = f"{PREFIX}:{queue}"
    return {
        "wait": admin.llen(f"{base}:wait"),
        "active": admin.llen(f"{base}:active"),
        "prioritized": admin.zcard(f"{base}:prioritized"),
        "delayed": admin.zcard(f"{base}:delayed"),
        "failed": admin.zcard(f"{base}:failed"),
    }


def _hold(live: Live, admin: Any, queue: str) -> None:
    """Keep every worker of `queue` busy on a `hold` job (concurrency 1 each)."""
    admin.set(HOLD_PREFIX + queue, "1")
    count = len(of_queue(queue))
    _producer(
        live, lambda p: p.add_many(queue, [("hold", {"max_s": 900}, {}) for _ in range(count)])
    )
    wait_until(f"{queue} workers busy", lambda: _counts(admin, queue)["active"] >= count)


def _release(live: Live, admin: Any, queue: str) -> None:
    admin.delete(HOLD_PREFIX + queue)


def _drained(admin: Any, queue: str) -> bool:
    counts = _counts(admin, queue)
    return (
        counts["wait"] + counts["prioritized"] <= 3 and counts["active"] <= 1
    )  # the trickle goes on


# -- queue-backlog ------------------------------------------------------------------------------
def backlog_on(live: Live, admin: Any) -> None:
    _hold(live, admin, "emails")
    aged = live.now_ms(admin) - AGED_S * 1000
    jobs_ = [("send", {"n": n}, {"timestamp": aged}) for n in range(BACKLOG_JOBS)]
    _producer(live, lambda p: p.add_many("emails", jobs_))


def backlog_off(live: Live, admin: Any) -> None:
    _release(live, admin, "emails")
    wait_until("emails drained", lambda: _drained(admin, "emails"))


# -- queue-paused -------------------------------------------------------------------------------
def paused_on(live: Live, admin: Any) -> None:
    _producer(live, lambda p: p.queue("imports").pause())


def paused_off(live: Live, admin: Any) -> None:
    _producer(live, lambda p: p.queue("imports").resume())


# -- queue-no-workers / worker-restarting ---------------------------------------------------------
def _stop(names: list[str]) -> Callable[[Live, Any], None]:
    def on(live: Live, admin: Any) -> None:
        for name in names:
            live.stop_worker(name)

    return on


def _start(names: list[str]) -> Callable[[Live, Any], None]:
    def off(live: Live, admin: Any) -> None:
        live.start_workers([n for n in names if not live.worker_alive(n)], admin)

    return off


# -- queue-stalled --------------------------------------------------------------------------------
def _unlocked_active(admin: Any, queue: str) -> int:
    base = f"{PREFIX}:{queue}"
    return sum(
        1 for job in admin.lrange(f"{base}:active", 0, -1) if not admin.exists(f"{base}:{job}:lock")
    )


def stalled_on(live: Live, admin: Any) -> None:
    _hold(live, admin, "imports")
    pid = live.pid_of("node-imports")
    if pid is None or not procs.signal_pid(pid, signal.SIGSTOP, str(live.node_dir / "worker.cjs")):
        raise RuntimeError("node-imports worker is not running")
    wait_until("imports job lock expired", lambda: _unlocked_active(admin, "imports") >= 1, 20)


def stalled_off(live: Live, admin: Any) -> None:
    pid = live.pid_of("node-imports")
    if pid is not None:
        procs.signal_pid(pid, signal.SIGCONT, str(live.node_dir / "worker.cjs"))
    _release(live, admin, "imports")
    wait_until("imports stalled jobs recovered", lambda: _unlocked_active(admin, "imports") == 0)


# -- queue-failed-spike ---------------------------------------------------------------------------
def failed_on(live: Live, admin: Any) -> None:
    before = _counts(admin, "imports")["failed"]
    _producer(
        live,
        lambda p: p.add_many(
            "imports", [("fail", {"n": n}, {"attempts": 1}) for n in range(FAILED_JOBS)]
        ),
    )
    wait_until(
        "imports failures recorded",
        lambda: _counts(admin, "imports")["failed"] >= before + FAILED_JOBS,
    )


def failed_off(live: Live, admin: Any) -> None:
    _producer(live, lambda p: p.queue("imports").clean(0, 10_000, "failed"))


# -- queue-delayed-overdue ------------------------------------------------------------------------
def overdue_on(live: Live, admin: Any) -> None:
    _hold(live, admin, "mirror-refresh")
    created = live.now_ms(admin) - AGED_S * 1000
    delayed = [("refresh", {"n": n}, {"timestamp": created, "delay": 60_000}) for n in range(5)]
    _producer(live, lambda p: p.add_many("mirror-refresh", delayed))


def overdue_off(live: Live, admin: Any) -> None:
    _release(live, admin, "mirror-refresh")
    wait_until(
        "mirror-refresh overdue jobs promoted", lambda: _due(live, admin, "mirror-refresh") == 0
    )


def _due(live: Live, admin: Any, queue: str) -> int:
    return int(admin.zcount(f"{PREFIX}:{queue}:delayed", 0, (live.now_ms(admin) + 1) * 4096 - 1))


# -- redis-auth-wrong -----------------------------------------------------------------------------
def auth_wrong_on(live: Live, admin: Any) -> None:
    """Rotate app-api's password in Redis only: the secret (and the API) keep the old one."""
    admin.execute_command(
        "ACL", "SETUSER", server.APP_USER, "resetpass", ">" + secrets.token_urlsafe(32)
    )


def auth_wrong_off(live: Live, admin: Any) -> None:
    password = live.state.secrets[APP_SECRET]
    admin.execute_command("ACL", "SETUSER", server.APP_USER, "resetpass", ">" + password)


def auth_matches(live: Live) -> bool:
    """The secret's password still opens app-api's door (a fresh connection, AUTH only)."""
    import redis

    client = redis.Redis(**live.app_options, socket_timeout=3, socket_connect_timeout=3)
    try:
        client.ping()
        return True
    except redis.AuthenticationError:
        return False
    finally:
        client.close()


# -- redis-memory-high ----------------------------------------------------------------------------
def memory_on(live: Live, admin: Any) -> None:
    info = admin.info("memory")
    fill = int(info["maxmemory"] * MEMORY_FILL) - int(info["used_memory"])
    if fill > 0:
        admin.setrange(BALLAST, fill - 1, "x")


def memory_off(live: Live, admin: Any) -> None:
    admin.delete(BALLAST)


# -- normal states --------------------------------------------------------------------------------
def future_on(live: Live, admin: Any) -> None:
    created = live.now_ms(admin) - 2 * 3_600_000
    reminders = [
        ("reminder", {"n": n}, {"timestamp": created, "delay": 3 * 3_600_000}) for n in range(20)
    ]
    _producer(live, lambda p: p.add_many("notifications", reminders))


def future_off(live: Live, admin: Any) -> None:
    _producer(live, lambda p: p.queue("notifications").clean(0, 10_000, "delayed"))


def idle_on(live: Live, admin: Any) -> None:
    _producer(live, lambda p: p.queue("mirror-refresh").obliterate(force=True))


def idle_off(live: Live, admin: Any) -> None:
    _producer(
        live, lambda p: p.add_many("mirror-refresh", [("refresh", {"n": n}, {}) for n in range(3)])
    )


def history_on(live: Live, admin: Any) -> None:
    done: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        ("send", {"n": n}, {}) for n in range(150)
    ]
    done += [("fail", {"n": n}, {"attempts": 1}) for n in range(5)]
    _producer(live, lambda p: p.add_many("emails", done))
    wait_until("emails history written", lambda: _drained(admin, "emails"))


def history_off(live: Live, admin: Any) -> None:
    async def clean(p: Producer) -> None:
        await p.queue("emails").clean(0, 10_000, "completed")
        await p.queue("emails").clean(0, 10_000, "failed")

    _producer(live, clean)


SWITCHES = {
    "queue-backlog": Switch(backlog_on, backlog_off),
    "queue-paused": Switch(paused_on, paused_off),
    "queue-no-workers": Switch(
        _stop(["node-notifications", "py-notifications"]),
        _start(["node-notifications", "py-notifications"]),
    ),
    "queue-stalled": Switch(stalled_on, stalled_off),
    "queue-failed-spike": Switch(failed_on, failed_off),
    "queue-delayed-overdue": Switch(overdue_on, overdue_off),
    "redis-auth-wrong": Switch(auth_wrong_on, auth_wrong_off),
    "redis-memory-high": Switch(memory_on, memory_off),
    "queue-delayed-future": Switch(future_on, future_off),
    "queue-idle": Switch(idle_on, idle_off),
    "queue-history": Switch(history_on, history_off),
    "worker-restarting": Switch(_stop(["py-emails"]), _start(["py-emails"])),
}  # fmt: skip  (redis-down is the part's own: it restarts the server)
