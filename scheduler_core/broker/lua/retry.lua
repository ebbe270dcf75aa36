-- A failed attempt with retries left: active -> scheduled (due after its backoff).
-- Fenced by the run, as finish.lua is: a process that lost the job's lease does not touch it.
-- KEYS: 1 active zset, 2 scheduled zset, 3 job hash, 4 stats hash (counts 'retried', or 'lost'
--       when the reaper retries a job whose lease expired)
-- ARGV: 1 id, 2 due time, 3 worker, 4 the run's started_at ("": not checked),
--       5 lease expired by ("": not checked; the reaper's), 6.. field, value pairs
if not holds_run(KEYS[1], ARGV[1], KEYS[3], ARGV[3], ARGV[4], ARGV[5])
  or redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[3], unpack(ARGV, 6))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
-- the reaper's retry of a lost job counts as 'lost' (once per recovery), a worker's as 'retried'
redis.call('HINCRBY', KEYS[4], ARGV[5] ~= '' and 'lost' or 'retried', 1)
return 1
