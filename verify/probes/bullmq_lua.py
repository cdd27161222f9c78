"""The read-only script that reads every configured BullMQ queue in one EVAL_RO.

KEYS: `<prefix>:<queue>` for each queue. ARGV: scan limit, then per queue its failed/completed
window (ms) and its delayed grace (ms). Redis's own clock (TIME) is the only clock.
Returns {now_ms, per queue {...}} as flat integer/string arrays (see FIELDS).
"""

from __future__ import annotations

# Per queue, in this order (a job id where the field says so, -1 where there is nothing).
FIELDS = (
    "wait",  # LLEN wait
    "paused_list",  # LLEN paused (BullMQ v5 moves wait here when paused)
    "active",
    "prioritized",
    "delayed",
    "completed",
    "failed",
    "meta_paused",  # 1 when meta.paused is set (v5 and v6)
    "known",  # 1 when the queue has a meta hash or any list/set: it was ever used
    "oldest_ready_ms",  # earliest ready time among scanned waiting jobs
    "oldest_job",  # its id
    "scanned",  # waiting jobs whose hash was read
    "due",  # delayed jobs already due (a worker promotes them when it polls)
    "overdue",  # delayed jobs due for longer than the grace
    "first_delayed_ms",  # ready time of the earliest delayed job
    "completed_recent",
    "failed_recent",
    "last_finished_ms",  # finishedOn of the newest completed job
    "stalled_now",  # active jobs (scanned) whose lock expired
    "stalled_job",
    "stalled_set",  # SCARD stalled: active jobs marked at the last stalled check
    "stalled_check_ttl_ms",  # PTTL stalled-check (-2: no worker swept within its interval)
)

SCRIPT = r"""
local rcall = redis.call
local t = rcall("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local out = {now}

-- When a waiting job became ready: created, plus the delay it was added with (a promoted
-- delayed job; promotion zeroes the hash's `delay`, opts keep it), or its last attempt's
-- start when it was retried or recovered from a stall.
local function ready_at(base, id)
  local h = rcall("HMGET", base .. ":" .. id, "timestamp", "opts", "processedOn")
  local ready = tonumber(h[1])
  if not ready then return nil end
  if h[2] then
    local ok, opts = pcall(cjson.decode, h[2])
    if ok and type(opts) == "table" and tonumber(opts["delay"]) then
      ready = ready + tonumber(opts["delay"])
    end
  end
  local processed = tonumber(h[3])
  if processed and processed > ready then ready = processed end
  return ready
end

for i, base in ipairs(KEYS) do
  local window = tonumber(ARGV[2 * i])
  local grace = tonumber(ARGV[2 * i + 1])
  local wait = rcall("LLEN", base .. ":wait")
  local paused = rcall("LLEN", base .. ":paused")
  local active = rcall("LLEN", base .. ":active")
  local prio = rcall("ZCARD", base .. ":prioritized")
  local delayed = rcall("ZCARD", base .. ":delayed")
  local completed = rcall("ZCARD", base .. ":completed")
  local failed = rcall("ZCARD", base .. ":failed")
  local meta_paused = rcall("HEXISTS", base .. ":meta", "paused")
  local known = rcall("EXISTS", base .. ":meta", base .. ":wait", base .. ":paused", base .. ":active",
                      base .. ":prioritized", base .. ":delayed", base .. ":completed", base .. ":failed")

  -- Oldest waiting job: workers take from the tail of wait (LIFO jobs are pushed there too),
  -- so the tail holds the next and the oldest FIFO jobs; prioritized jobs are not in wait.
  local oldest, oldest_id, scanned = nil, "", 0
  for _, key in ipairs({base .. ":wait", base .. ":paused"}) do
    for _, id in ipairs(rcall("LRANGE", key, -limit, -1)) do
      scanned = scanned + 1
      local r = ready_at(base, id)
      if r and (oldest == nil or r < oldest) then oldest, oldest_id = r, id end
    end
  end
  for _, id in ipairs(rcall("ZRANGE", base .. ":prioritized", 0, limit - 1)) do
    scanned = scanned + 1
    local r = ready_at(base, id)
    if r and (oldest == nil or r < oldest) then oldest, oldest_id = r, id end
  end

  -- Delayed score = ready_ms * 4096 + sequence.
  local due = rcall("ZCOUNT", base .. ":delayed", 0, (now + 1) * 4096 - 1)
  local overdue = rcall("ZCOUNT", base .. ":delayed", 0, (now - grace + 1) * 4096 - 1)
  local first = rcall("ZRANGE", base .. ":delayed", 0, 0, "WITHSCORES")
  local first_ms = -1
  if first[2] then first_ms = math.floor(tonumber(first[2]) / 4096) end

  local since = now - window
  local completed_recent = rcall("ZCOUNT", base .. ":completed", since, "+inf")
  local failed_recent = rcall("ZCOUNT", base .. ":failed", since, "+inf")
  local last = rcall("ZRANGE", base .. ":completed", -1, -1, "WITHSCORES")
  local last_ms = -1
  if last[2] then last_ms = tonumber(last[2]) end

  -- Stalled: an active job whose lock expired (its worker hung or died mid-job).
  local stalled_now, stalled_id = 0, ""
  for _, id in ipairs(rcall("LRANGE", base .. ":active", 0, limit - 1)) do
    if rcall("EXISTS", base .. ":" .. id .. ":lock") == 0 then
      stalled_now = stalled_now + 1
      if stalled_id == "" then stalled_id = id end
    end
  end

  table.insert(out, {wait, paused, active, prio, delayed, completed, failed, meta_paused, known,
                     oldest or -1, oldest_id, scanned, due, overdue, first_ms,
                     completed_recent, failed_recent, last_ms, stalled_now, stalled_id,
                     rcall("SCARD", base .. ":stalled"), rcall("PTTL", base .. ":stalled-check")})
end
return out
"""

# What a dedicated, least-privilege Redis user needs (README, "Redis ACL for verify"):
# the probe reads only under the prefix (`%R~<prefix>:*`) ...
ACL_PROBE = (
    "+eval_ro +time +info +ping +llen +lrange +zcard +zcount +zrange +hexists +exists +hmget "
    "+scard +pttl +client|list"
)
# ... and the canary writes only under the canary queue (`%RW~<prefix>:<canary queue>:*`).
ACL_CANARY = "+eval +incr +hset +lpush +zadd +xadd +lrem +zrem +srem +del +zscore"
