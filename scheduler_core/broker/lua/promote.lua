-- Move due jobs from `scheduled` to `queued`, at most ARGV[2] of them.
-- KEYS: 1 scheduled zset, 2 queued list, 3 signal list
-- ARGV: 1 now, 2 limit, 3 job key prefix
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local moved = 0
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  local jk = ARGV[3] .. id
  local front = redis.call('HGET', jk, 'at_front')
  if front then
    redis.call('HSET', jk, 'status', 'queued', 'enqueued_at', ARGV[1])
    if front == '1' then
      redis.call('LPUSH', KEYS[2], id)
    else
      redis.call('RPUSH', KEYS[2], id)
    end
    moved = moved + 1
    if moved <= 1000 then
      redis.call('LPUSH', KEYS[3], '1')
    end
  end
end
if moved > 0 then
  redis.call('LTRIM', KEYS[3], 0, 999)
end
return moved
