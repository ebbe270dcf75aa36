-- Move a job out of `active` into a terminal registry (finished | failed | canceled), then
-- optionally claim the next job in the same round trip.
-- A job that is no longer active, or whose run is no longer the caller's (see holds_run), is not
-- touched: the first outcome recorded wins, so a job is never in two registries.
-- The outcome is counted in the queue's stats hash (see count_outcome); a job the reaper records
-- counts as 'lost' instead.
-- Callers blocked in Job.wait are woken (see wake_waiters).
-- KEYS: 1 active zset, 2 target zset, 3 job hash, 4 queued list, 5 signal list, 6 stats hash,
--       7 done list (Job.wait)
-- ARGV: 1 id, 2 now, 3 ttl (-1 forever, 0 delete now), 4 claim next ("1"|"0"), 5 lease deadline,
--       6 worker name, 7 job key prefix, 8 the run's started_at ("": not checked),
--       9 lease expired by ("": not checked; the reaper's), 10.. field, value pairs
--       (the first pair is 'status', the outcome: it names the outcome's counter)
local done = 0
if holds_run(KEYS[1], ARGV[1], KEYS[3], ARGV[6], ARGV[8], ARGV[9])
  and redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  done = 1
  local started = redis.call('HGET', KEYS[3], 'started_at')  -- before a ttl of 0 deletes it
  wake_waiters(KEYS[3], KEYS[7], ARGV[10] == 'status' and ARGV[11] or 'finished')
  to_terminal(KEYS[2], KEYS[3], ARGV[1], ARGV[2], tonumber(ARGV[3]), {unpack(ARGV, 10)})
  if ARGV[9] ~= '' then
    redis.call('HINCRBY', KEYS[6], 'lost', 1)  -- the reaper's: a lost job counts once, as lost
  else
    count_outcome(KEYS[6], ARGV[10] == 'status' and ARGV[11] or 'finished', started, ARGV[2])
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
  local kind = redis.call('TYPE', jk).ok
  if kind ~= 'hash' and kind ~= 'none' then
    -- not a job record at all (written by hand, or a key clash): keep the id, mark it corrupt,
    -- and let the claimer fail it as such; the script must not abort half-way (the id is popped)
    redis.call('DEL', jk)
    redis.call('HSET', jk, 'corrupt', 'the record is a Redis ' .. kind .. ', not a hash')
  end
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
