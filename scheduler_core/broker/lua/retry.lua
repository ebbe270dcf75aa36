-- A failed attempt with retries left: active -> scheduled (due after its backoff).
-- KEYS: 1 active zset, 2 scheduled zset, 3 job hash
-- ARGV: 1 id, 2 due time, 3.. field, value pairs
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[3], unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
