-- Cancel a job that has not started: queued or scheduled -> canceled.
-- The record's own failure_ttl decides how long it is kept (ARGV[3] when it has none):
-- -1 forever, 0 deleted at once (nothing is kept, as for a finished job with result_ttl 0).
-- Returns 1 when canceled, 0 when the job was in neither registry.
-- KEYS: 1 queued list, 2 scheduled zset, 3 canceled zset, 4 job hash, 5 done list (Job.wait)
-- ARGV: 1 id, 2 now, 3 default ttl
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 and redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then
  return 0
end
local kind = redis.call('TYPE', KEYS[4]).ok
if kind ~= 'hash' and kind ~= 'none' then  -- not a job record: cancel the id all the same
  redis.call('DEL', KEYS[4])
  redis.call('HSET', KEYS[4], 'corrupt', 'the record is a Redis ' .. kind .. ', not a hash')
end
local ttl = tonumber(redis.call('HGET', KEYS[4], 'failure_ttl') or ARGV[3]) or tonumber(ARGV[3])
wake_waiters(KEYS[4], KEYS[5], 'canceled')
to_terminal(KEYS[3], KEYS[4], ARGV[1], ARGV[2], ttl, {'status', 'canceled', 'ended_at', ARGV[2]})
return 1
