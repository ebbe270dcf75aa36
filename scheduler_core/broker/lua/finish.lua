-- Move a job out of `active` into a terminal registry (finished | failed | canceled), then
-- optionally claim the next job in the same round trip.
-- Expired entries of the target registry are pruned on the way.
-- A job that is no longer active, or no longer this worker's (its lease was taken by the reaper,
-- or it was deleted), is not touched: the first outcome recorded wins, so a job is never in two
-- registries.
-- Callers blocked in Job.wait (the record's `waiters` count) get one token each on the done list.
-- KEYS: 1 active zset, 2 target zset, 3 job hash, 4 queued list, 5 signal list, 6 done list
-- ARGV: 1 id, 2 now, 3 ttl (-1 forever, 0 delete now), 4 claim next ("1"|"0"), 5 lease deadline,
--       6 worker name, 7 job key prefix, 8 the run's started_at ("": not checked),
--       9.. field, value pairs, the first being 'status', <the terminal status>
local done = 0
-- fenced by the run: a process whose lease ran out (the job was recovered and claimed again, by
-- another worker or by another process of the same one) must not record over the job's new run.
-- A claim is told by its worker and its start time: two claims of one job are a lease apart.
local run = redis.call('HMGET', KEYS[3], 'worker', 'started_at', 'waiters')
local same_run = run[1] == ARGV[6]
  and (ARGV[8] == '' or (run[2] and math.abs(tonumber(run[2]) - tonumber(ARGV[8])) < 0.001))
if same_run and redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  done = 1
  if run[3] then  -- the status as the token: a waiter knows the outcome even if the record is gone
    for _ = 1, math.min(tonumber(run[3]) or 1, 100) do
      redis.call('LPUSH', KEYS[6], ARGV[10])
    end
    redis.call('EXPIRE', KEYS[6], 60)  -- keys.DONE_TTL
  end
  -- drop the target's expired entries (their records are gone by TTL): amortised O(1) a job,
  -- and the registries stay bounded without a sweeper
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
  local ttl = tonumber(ARGV[3])
  if ttl == 0 then
    redis.call('DEL', KEYS[3])
  else
    if #ARGV >= 9 then
      redis.call('HSET', KEYS[3], unpack(ARGV, 9))
    end
    if ttl < 0 then
      redis.call('ZADD', KEYS[2], '+inf', ARGV[1])
      redis.call('PERSIST', KEYS[3])
    else
      redis.call('ZADD', KEYS[2], tonumber(ARGV[2]) + ttl, ARGV[1])
      redis.call('EXPIRE', KEYS[3], ttl)
    end
  end
end
if ARGV[4] ~= '1' then
  return {done}
end
while true do
  local id = redis.call('LPOP', KEYS[4])
  if not id then
    redis.call('DEL', KEYS[5])
    return {done}
  end
  local jk = ARGV[7] .. id
  local out = redis.call('HGETALL', jk)  -- empty: a record deleted while queued, skip its id
  if #out > 0 then
    redis.call('ZADD', KEYS[1], ARGV[5], id)
    redis.call('HSET', jk, 'status', 'active', 'started_at', ARGV[2], 'worker', ARGV[6])
    -- the new state follows the stored fields: read as pairs into a dict, the later ones win
    local n = #out
    out[n + 1], out[n + 2], out[n + 3], out[n + 4], out[n + 5], out[n + 6] =
      'status', 'active', 'started_at', ARGV[2], 'worker', ARGV[6]
    table.insert(out, 1, id)
    table.insert(out, 1, done)
    return out
  end
end
