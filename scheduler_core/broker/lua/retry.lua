-- A failed attempt with retries left: active -> scheduled (due after its backoff).
-- Fenced by the worker, as finish.lua is: a worker that lost the job's lease does not touch it.
-- KEYS: 1 active zset, 2 scheduled zset, 3 job hash
-- ARGV: 1 id, 2 due time, 3 worker, 4.. field, value pairs
if redis.call('HGET', KEYS[3], 'worker') ~= ARGV[3] or redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[3], unpack(ARGV, 4))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
