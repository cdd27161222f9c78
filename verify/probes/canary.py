"""The canary job: enqueue `verify-canary` the way BullMQ does, wait for a worker to complete
it, remove every trace of it. No bullmq import: two small scripts and a bounded poll."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from verify.probes.errors import ProbeError
from verify.probes.redisconn import clean, text
from verify.redact import REDACT
from verify.text import one_line

if TYPE_CHECKING:
    from verify.probes.redisconn import RedisHandle

JOB_NAME = "verify-canary"
POLL_S = 0.1
# LPUSH into wait and wake blocked workers (v5+ `marker`), as BullMQ's addStandardJob does.
# KEYS[1] is `<prefix>:<queue>:id`: a key under the queue, so an ACL key pattern can allow it.
ADD = r"""
local base = string.sub(KEYS[1], 1, -4)
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call("HEXISTS", base .. ":meta", "paused") == 1 then return {"", now, "paused"} end
local id = tostring(redis.call("INCR", base .. ":id"))
redis.call("HSET", base .. ":" .. id, "name", ARGV[1], "data", ARGV[2], "opts", ARGV[3],
           "timestamp", now, "delay", 0, "priority", 0)
redis.call("LPUSH", base .. ":wait", id)
redis.call("ZADD", base .. ":marker", 0, "0")
redis.call("XADD", base .. ":events", "MAXLEN", "~", 10000, "*", "event", "waiting", "jobId", id)
return {id, now, ""}
"""
# Remove the canary from every state; a job a worker still holds (locked) is left to it.
CLEAN = r"""
local base, id = string.sub(KEYS[1], 1, -4), ARGV[1]
if redis.call("EXISTS", base .. ":" .. id .. ":lock") == 1 then return 0 end
for _, list in ipairs({"wait", "paused", "active"}) do redis.call("LREM", base .. ":" .. list, 0, id) end
for _, set in ipairs({"completed", "failed", "prioritized", "delayed"}) do
  redis.call("ZREM", base .. ":" .. set, id)
end
redis.call("SREM", base .. ":stalled", id)
redis.call("DEL", base .. ":" .. id, base .. ":" .. id .. ":logs")
return 1
"""


@dataclass(frozen=True)
class CanaryObservation:
    queue: str
    job_id: str | None
    outcome: str  # completed | failed | timeout | paused
    seconds: float  # from enqueue (Redis clock) to the outcome
    timeout_s: float
    failed_reason: str | None
    cleaned: bool

    def evidence(self) -> list[str]:
        return [
            f"canary job {self.job_id or '-'} on {self.queue}: {self.outcome} after {self.seconds:.2f} s"
            + (f" ({self.failed_reason})" if self.failed_reason else ""),
            "canary removed from Redis"
            if self.cleaned
            else "canary still held by a worker: left to it",
        ]


def run(
    handle: RedisHandle, prefix: str, queue: str, timeout_s: float, call_timeout: Any
) -> CanaryObservation:
    """Enqueue, poll every 100 ms for at most `timeout_s`, clean up; `call_timeout()` caps each call."""
    base = f"{prefix}:{queue}"
    opts = json.dumps({"attempts": 1, "removeOnComplete": False, "removeOnFail": False})
    data = json.dumps({"canary": True, "by": "verify"})
    (added,) = handle.read(
        [("EVAL", ADD, 1, f"{base}:id", JOB_NAME, data, opts)], call_timeout(), "canary"
    )
    if isinstance(added, Exception):
        raise ProbeError(f"{handle.target.url} {queue}", f"canary not enqueued: {clean(added)}")
    job_id, enqueued_ms, why = text(added[0]), int(added[1]), text(added[2])
    if why == "paused":
        return CanaryObservation(queue, None, "paused", 0.0, timeout_s, None, True)
    started = time.monotonic()
    outcome, reason, now_ms = "timeout", None, enqueued_ms
    try:
        while True:
            fields, finished, failed, clock = handle.read(
                [("HMGET", f"{base}:{job_id}", "finishedOn", "failedReason"),
                 ("ZSCORE", f"{base}:completed", job_id), ("ZSCORE", f"{base}:failed", job_id), ("TIME",)],
                call_timeout(),
                "canary",
            )  # fmt: skip
            now_ms = int(clock[0]) * 1000 + int(clock[1]) // 1000
            if failed is not None:
                outcome, reason = "failed", text(fields[1]) if fields[1] else "no reason recorded"
                break
            if finished is not None:
                outcome = "completed"
                break
            if time.monotonic() - started >= timeout_s:
                break
            time.sleep(POLL_S)
    finally:
        (cleaned,) = handle.read(
            [("EVAL", CLEAN, 1, f"{base}:id", job_id)], call_timeout(), "canary"
        )
    return CanaryObservation(queue, job_id, outcome, (now_ms - enqueued_ms) / 1000, timeout_s,
                             one_line(REDACT(reason), 200) if reason else None, cleaned == 1)  # fmt: skip
