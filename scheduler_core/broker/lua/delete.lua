-- Delete a job that is not running: remove it from every registry and drop its record.
-- Returns 1 deleted, 0 not found, -1 refused because it is active (stop it first).
-- KEYS: 1 scheduled, 2 queued, 3 active, 4 finished, 5 failed, 6 canceled, 7 job hash
-- ARGV: 1 id
if redis.call('ZSCORE', KEYS[3], ARGV[1]) then
  return -1
end
local n = redis.call('ZREM', KEYS[1], ARGV[1]) + redis.call('LREM', KEYS[2], 0, ARGV[1])
  + redis.call('ZREM', KEYS[4], ARGV[1]) + redis.call('ZREM', KEYS[5], ARGV[1])
  + redis.call('ZREM', KEYS[6], ARGV[1]) + redis.call('DEL', KEYS[7])
if n > 0 then
  return 1
end
return 0
