-- Put a failed or canceled job back in `queued`, with a fresh record lifetime.
-- Returns 1 on success, 0 when the job is in neither registry, -1 when its record expired or
-- belongs to a newer job with the same id (the stale index entry is removed, nothing is queued:
-- requeueing it would put an id in two registries).
-- KEYS: 1 failed zset, 2 canceled zset, 3 queued list, 4 job hash, 5 signal list
-- ARGV: 1 id, 2 now
local from_failed = redis.call('ZREM', KEYS[1], ARGV[1])
local from_canceled = redis.call('ZREM', KEYS[2], ARGV[1])
if from_failed == 0 and from_canceled == 0 then
  return 0
end
local status = redis.call('HGET', KEYS[4], 'status')
if status ~= 'failed' and status ~= 'stopped' and status ~= 'canceled' then
  return -1
end
redis.call('PERSIST', KEYS[4])
redis.call('HDEL', KEYS[4], 'exc_type', 'exc_message', 'traceback', 'ended_at', 'worker', 'result', 'result_repr')
redis.call('HSET', KEYS[4], 'status', 'queued', 'enqueued_at', ARGV[2])
redis.call('RPUSH', KEYS[3], ARGV[1])
if redis.call('LPUSH', KEYS[5], '1') > 1000 then
  redis.call('LTRIM', KEYS[5], 0, 999)
end
return 1
