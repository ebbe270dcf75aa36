-- Move the score of members that are already in a sorted set (a lease or liveness renewal);
-- absent members are not added (ZADD XX).
-- It works when the broker is at its memory limit: a renewal does not grow the set, and a
-- script is refused only at its first write of a kind that may use memory (ZADD), so the first
-- member present is re-added by ZREM + ZADD, after which the script has written and completes.
-- A job keeps its lease and a worker its liveness while writes are refused.
-- KEYS: 1 sorted set
-- ARGV: 1 score, 2.. members
-- Returns how many members were renewed.
local n = 0
for i = 2, #ARGV do
  if n == 0 then
    if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
      redis.call('ZADD', KEYS[1], ARGV[1], ARGV[i])
      n = 1
    end
  else
    n = n + redis.call('ZADD', KEYS[1], 'XX', 'CH', ARGV[1], ARGV[i])
  end
end
return n
