-- A failed attempt with retries left: active -> scheduled (due after its backoff).
-- Fenced by the run, as finish.lua is: a process that lost the job's lease does not touch it.
-- KEYS: 1 active zset, 2 scheduled zset, 3 job hash, 4 stats hash (counts 'retried')
-- ARGV: 1 id, 2 due time, 3 worker, 4 the run's started_at ("": not checked), 5.. field, value pairs
local run = redis.call('HMGET', KEYS[3], 'worker', 'started_at')
local same_run = run[1] == ARGV[3]
  and (ARGV[4] == '' or (run[2] and math.abs(tonumber(run[2]) - tonumber(ARGV[4])) < 0.001))
if not same_run or redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[3], unpack(ARGV, 5))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('HINCRBY', KEYS[4], 'retried', 1)
return 1
