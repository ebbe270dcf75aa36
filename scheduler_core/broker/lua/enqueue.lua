-- Create job records and put their ids in `queued` or `scheduled`, atomically, for a batch of
-- jobs in one call (a single enqueue is a batch of one).
-- Idempotent: an id whose record exists is left alone (deterministic task-occurrence ids).
-- KEYS: 1 queued list, 2 scheduled zset, 3 signal list
-- ARGV: 1 job key prefix, then 6 per job:
--   id, mode ("q" queue at the back | "f" at the front | "s" schedule | "S" schedule, front), time (enqueue or
--   due time), failure ttl, retries left ("" for none), spec (JSON)
-- Returns the number of jobs created.
local prefix = ARGV[1]
local created = 0
local queued = 0
for i = 2, #ARGV, 6 do
  local id, mode, at = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local jk = prefix .. id
  if redis.call('EXISTS', jk) == 0 then
    created = created + 1
    if mode == 's' or mode == 'S' then
      redis.call('HSET', jk, 'spec', ARGV[i + 5], 'status', 'scheduled', 'due_at', at,
        'failure_ttl', ARGV[i + 3], 'at_front', mode == 'S' and '1' or '0')
      redis.call('ZADD', KEYS[2], at, id)
    else
      redis.call('HSET', jk, 'spec', ARGV[i + 5], 'status', 'queued', 'enqueued_at', at,
        'failure_ttl', ARGV[i + 3])
      if mode == 'f' then
        redis.call('LPUSH', KEYS[1], id)
      else
        redis.call('RPUSH', KEYS[1], id)
      end
      queued = queued + 1
    end
    if ARGV[i + 4] ~= '' then
      redis.call('HSET', jk, 'retries_left', ARGV[i + 4])
    end
  end
end
if queued > 0 then
  -- wake idle workers; the signal list is bounded and is emptied when a claim finds nothing
  for _ = 1, math.min(queued, 64) do
    redis.call('LPUSH', KEYS[3], '1')
  end
  redis.call('LTRIM', KEYS[3], 0, 999)
end
return created
