-- Claim the next job: queued -> active, with a lease. The job is in exactly one registry at
-- every instant: there is no hand-off list in between.
-- Returns {id, field, value, ...} of the job record, or false when queued is empty.
-- KEYS: 1 queued list, 2 active zset, 3 signal list
-- ARGV: 1 now, 2 lease deadline, 3 worker name, 4 job key prefix
while true do
  local id = redis.call('LPOP', KEYS[1])
  if not id then
    redis.call('DEL', KEYS[3])  -- nothing left: stale wake-up tokens would only spin workers
    return false
  end
  local jk = ARGV[4] .. id
  local kind = redis.call('TYPE', jk).ok
  if kind ~= 'hash' and kind ~= 'none' then
    -- not a job record at all (written by hand, or a key clash): keep the id, mark it corrupt,
    -- and let the claimer fail it as such; the script must not abort half-way (the id is popped)
    redis.call('DEL', jk)
    redis.call('HSET', jk, 'corrupt', 'the record is a Redis ' .. kind .. ', not a hash')
  end
  local out = redis.call('HGETALL', jk)  -- empty: a record deleted while queued
  if #out > 0 then
    redis.call('ZADD', KEYS[2], ARGV[2], id)
    redis.call('HSET', jk, 'status', 'active', 'started_at', ARGV[1], 'worker', ARGV[3])
    -- the new state follows the stored fields: read as pairs into a dict, the later ones win
    local n = #out
    out[n + 1], out[n + 2], out[n + 3], out[n + 4], out[n + 5], out[n + 6] =
      'status', 'active', 'started_at', ARGV[1], 'worker', ARGV[3]
    table.insert(out, 1, id)
    return out
  end
  -- a record deleted while queued: drop the dangling id and go on
end
