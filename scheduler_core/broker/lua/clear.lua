-- Clear up to ARGV[3] jobs from one registry (not active): remove their ids and their records in
-- one atomic step, so a job that a worker or the scheduler moves meanwhile is never half-cleared.
-- Returns the number of ids removed (0: the registry is empty).
-- KEYS: 1 registry key
-- ARGV: 1 kind ("list" | "zset"), 2 job key prefix, 3 batch size
local n = tonumber(ARGV[3])
local ids
if ARGV[1] == 'list' then
  ids = redis.call('LRANGE', KEYS[1], 0, n - 1)
  if #ids > 0 then
    redis.call('LTRIM', KEYS[1], #ids, -1)
  end
else
  ids = redis.call('ZRANGE', KEYS[1], 0, n - 1)
  if #ids > 0 then
    redis.call('ZREM', KEYS[1], unpack(ids))
  end
end
for _, id in ipairs(ids) do
  redis.call('DEL', ARGV[2] .. id)
end
return #ids
