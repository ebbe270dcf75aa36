-- Cancel a job that has not started: queued or scheduled -> canceled.
-- Returns 1 when canceled, 0 when the job was in neither registry.
-- KEYS: 1 queued list, 2 scheduled zset, 3 canceled zset, 4 job hash
-- ARGV: 1 id, 2 now, 3 ttl (-1 forever)
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 and redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then
  return 0
end
local ttl = tonumber(ARGV[3])
redis.call('HSET', KEYS[4], 'status', 'canceled', 'ended_at', ARGV[2])
if ttl < 0 then
  redis.call('ZADD', KEYS[3], '+inf', ARGV[1])
else
  redis.call('ZADD', KEYS[3], tonumber(ARGV[2]) + ttl, ARGV[1])
  redis.call('EXPIRE', KEYS[4], math.max(ttl, 1))
end
return 1
