-- Shared by every script: scripts.py puts this file in front of each one when it loads them.

-- Whether the caller still holds the job's current run. A run is told by its worker and its
-- claim's start time (two claims of one job are a lease apart); `started` "" skips that check.
-- A process whose lease ran out (the job was recovered and claimed again, by another worker or
-- another process of the same one) must not record over the new run. The reaper passes
-- `expired_by`: the lease must still have run out by then (a late renewal keeps the job).
local function holds_run(active, id, jk, worker, started, expired_by)
  local run = redis.call('HMGET', jk, 'worker', 'started_at')
  if run[1] ~= worker then
    return false
  end
  if started ~= '' and not (run[2] and math.abs(tonumber(run[2]) - tonumber(started)) < 0.001) then
    return false
  end
  if expired_by ~= '' then
    local lease = redis.call('ZSCORE', active, id)
    if not lease or tonumber(lease) > tonumber(expired_by) then
      return false
    end
  end
  return true
end

-- Put a job (already out of its previous registry) into a terminal registry: finished, failed
-- or canceled. `ttl` is how long it is kept: -1 forever, 0 not at all (the record is deleted).
-- `fields` (a flat list of field, value) are written to the record first. The registry's expired
-- entries (their records are gone by TTL) leave on the way: amortised O(1) a job, and the
-- registries stay bounded without a sweeper.
local function to_terminal(registry, jk, id, now, ttl, fields)
  redis.call('ZREMRANGEBYSCORE', registry, '-inf', now)
  if ttl == 0 then
    redis.call('DEL', jk)
    return
  end
  if #fields > 0 then
    redis.call('HSET', jk, unpack(fields))
  end
  if ttl < 0 then
    redis.call('ZADD', registry, '+inf', id)
    redis.call('PERSIST', jk)
  else
    redis.call('ZADD', registry, tonumber(now) + ttl, id)
    redis.call('EXPIRE', jk, ttl)
  end
end

-- Job.wait: the record's `waiters` (counted by watch.lua) each get one token on the job's done
-- list, the terminal status, so a waiter knows the outcome even when the record is not kept.
-- The list expires after 60 s (keys.DONE_TTL): tokens nobody took do not stay. Call it before
-- to_terminal (a ttl of 0 deletes the record, and its count with it).
local function wake_waiters(jk, done, status)
  local waiters = tonumber(redis.call('HGET', jk, 'waiters') or '0') or 0
  if waiters > 0 then
    for _ = 1, math.min(waiters, 100) do
      redis.call('LPUSH', done, status)
    end
    redis.call('EXPIRE', done, 60)
  end
end

-- Run-duration buckets (seconds, upper bounds; tostring gives the field names), the same as
-- scheduler_core.metrics.series.DURATION_BUCKETS.
local BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600}

-- Count an outcome in the queue's stats hash: in the bucket of the run's duration when its start
-- is known (non-cumulative, "<outcome>:<le>"), plus the durations' sum in microseconds; else
-- under the outcome alone. Two increments of one hash: the metrics cost no extra round trip.
local function count_outcome(stats, outcome, started, now)
  if started then
    local took = math.max(tonumber(now) - tonumber(started), 0)
    local le = '+Inf'
    for _, bound in ipairs(BUCKETS) do
      if took <= bound then
        le = tostring(bound)
        break
      end
    end
    redis.call('HINCRBY', stats, outcome .. ':' .. le, 1)
    redis.call('HINCRBY', stats, 'duration_us', math.floor(took * 1e6 + 0.5))
  else
    redis.call('HINCRBY', stats, outcome, 1)
  end
end
