-- Recover jobs whose lease expired (their worker died): back to queued while retries remain,
-- else to failed with the reason. Returns {id, outcome, ...}.
-- KEYS: 1 active zset, 2 failed zset, 3 queued list, 4 signal list
-- ARGV: 1 now, 2 limit, 3 job key prefix, 4 default failure ttl, 5 done list prefix (Job.wait)
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
if #ids > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])  -- expired failed entries leave on the way
end
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  local jk = ARGV[3] .. id
  if redis.call('EXISTS', jk) == 1 then
    local left = tonumber(redis.call('HGET', jk, 'retries_left') or '0') or 0
    if left > 0 then
      redis.call('HSET', jk, 'status', 'queued', 'enqueued_at', ARGV[1], 'retries_left', left - 1,
        'exc_type', 'WorkerLost', 'exc_message', 'worker lost (lease expired); retrying')
      -- a record without `attempt` is on its first one (HINCRBY would make that 1, not 2)
      local attempt = tonumber(redis.call('HGET', jk, 'attempt') or '1') or 1
      redis.call('HSET', jk, 'attempt', attempt + 1)
      redis.call('RPUSH', KEYS[3], id)
      redis.call('LPUSH', KEYS[4], '1')
      table.insert(out, id)
      table.insert(out, 'requeued')
    else
      local ttl = tonumber(redis.call('HGET', jk, 'failure_ttl') or ARGV[4]) or tonumber(ARGV[4])
      local waiters = tonumber(redis.call('HGET', jk, 'waiters') or '0') or 0
      if waiters > 0 then
        for _ = 1, math.min(waiters, 100) do
          redis.call('LPUSH', ARGV[5] .. id, 'failed')
        end
        redis.call('EXPIRE', ARGV[5] .. id, 60)  -- keys.DONE_TTL
      end
      if ttl == 0 then
        -- failure_ttl 0: nothing is kept, as when a worker records the failure itself
        redis.call('DEL', jk)
      else
        redis.call('HSET', jk, 'status', 'failed', 'ended_at', ARGV[1], 'exc_type', 'WorkerLost',
          'exc_message', 'worker lost (lease expired)')
        if ttl < 0 then
          redis.call('ZADD', KEYS[2], '+inf', id)
        else
          redis.call('ZADD', KEYS[2], tonumber(ARGV[1]) + ttl, id)
          redis.call('EXPIRE', jk, ttl)
        end
      end
      table.insert(out, id)
      table.insert(out, 'failed')
    end
  end
end
redis.call('LTRIM', KEYS[4], 0, 999)
return out
