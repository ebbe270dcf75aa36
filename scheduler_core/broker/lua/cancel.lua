-- Cancel a job that has not started: queued or scheduled -> canceled.
-- The record's own failure_ttl decides how long it is kept (ARGV[3] when it has none):
-- -1 forever, 0 deleted at once (nothing is kept, as for a finished job with result_ttl 0).
-- Returns 1 when canceled, 0 when the job was in neither registry.
-- KEYS: 1 queued list, 2 scheduled zset, 3 canceled zset, 4 job hash, 5 done list (Job.wait)
-- ARGV: 1 id, 2 now, 3 default ttl
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 and redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then
  return 0
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[2])  -- expired entries leave on the way
local ttl = tonumber(redis.call('HGET', KEYS[4], 'failure_ttl') or ARGV[3]) or tonumber(ARGV[3])
local waiters = tonumber(redis.call('HGET', KEYS[4], 'waiters') or '0') or 0
if waiters > 0 then
  for _ = 1, math.min(waiters, 100) do
    redis.call('LPUSH', KEYS[5], 'canceled')
  end
  redis.call('EXPIRE', KEYS[5], 60)  -- keys.DONE_TTL
end
if ttl == 0 then
  redis.call('DEL', KEYS[4])
  return 1
end
redis.call('HSET', KEYS[4], 'status', 'canceled', 'ended_at', ARGV[2])
if ttl < 0 then
  redis.call('ZADD', KEYS[3], '+inf', ARGV[1])
  redis.call('PERSIST', KEYS[4])
else
  redis.call('ZADD', KEYS[3], tonumber(ARGV[2]) + ttl, ARGV[1])
  redis.call('EXPIRE', KEYS[4], ttl)
end
return 1
