-- A consistent snapshot of one queue for the invariant checker (tests and diagnostics only: it
-- is O(all jobs) and blocks the server while it runs).
-- Returns {scheduled ids, queued ids, active ids, finished ids, failed ids, canceled ids,
--          expired terminal ids, {id, status, ...} of every record}; the terminal registries'
-- lists hold live entries only (an expired entry's record is about to expire with it).
-- KEYS: 1 scheduled, 2 queued, 3 active, 4 finished, 5 failed, 6 canceled
-- ARGV: 1 now, 2 job key prefix, 3 SCAN pattern for the job records
local out = {
  redis.call('ZRANGE', KEYS[1], 0, -1),
  redis.call('LRANGE', KEYS[2], 0, -1),
  redis.call('ZRANGE', KEYS[3], 0, -1),
}
local expired = {}
for i = 4, 6 do
  table.insert(out, redis.call('ZRANGEBYSCORE', KEYS[i], '(' .. ARGV[1], '+inf'))
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[i], '-inf', ARGV[1])) do
    table.insert(expired, id)
  end
end
table.insert(out, expired)
local records = {}
local plen = string.len(ARGV[2])
local cursor = '0'
repeat
  local page = redis.call('SCAN', cursor, 'MATCH', ARGV[3], 'COUNT', 1000)
  cursor = page[1]
  for _, key in ipairs(page[2]) do
    table.insert(records, string.sub(key, plen + 1))
    table.insert(records, redis.call('HGET', key, 'status') or '')
  end
until cursor == '0'
table.insert(out, records)
return out
