-- Create job records and put their ids in `queued` or `scheduled`, atomically, for a batch of
-- jobs in one call (a single enqueue is a batch of one).
-- Idempotent: an id whose record exists is left alone (deterministic task-occurrence ids).
-- KEYS: 1 queued list, 2 scheduled zset, 3 signal list
-- ARGV: 1 job key prefix, then groups of jobs that share their options, each:
--   count, mode ("q" queue at the back | "f" at the front | "s" schedule | "S" schedule, front),
--   time (enqueue or due time), failure ttl, retries left ("" for none),
--   then `count` pairs: id, spec (JSON)
-- (two arguments per job, not six: a bulk enqueue is mostly one group per call)
-- Returns the number of jobs created.
local prefix = ARGV[1]
local created = 0
local queued = 0
local front, back = {}, {}
local g = 2
while g <= #ARGV do
  local n, mode, at, failure_ttl, retries = tonumber(ARGV[g]), ARGV[g + 1], ARGV[g + 2], ARGV[g + 3], ARGV[g + 4]
  local scheduled = mode == 's' or mode == 'S'
  local first = g + 5
  for i = first, first + 2 * n - 1, 2 do
    local id = ARGV[i]
    local jk = prefix .. id
    if redis.call('EXISTS', jk) == 0 then
      created = created + 1
      if scheduled then
        redis.call('HSET', jk, 'spec', ARGV[i + 1], 'status', 'scheduled', 'due_at', at,
          'failure_ttl', failure_ttl, 'at_front', mode == 'S' and '1' or '0')
        redis.call('ZADD', KEYS[2], at, id)
      else
        redis.call('HSET', jk, 'spec', ARGV[i + 1], 'status', 'queued', 'enqueued_at', at,
          'failure_ttl', failure_ttl)
        -- pushed once per batch below: the two ends are independent, so the order is the same
        if mode == 'f' then
          front[#front + 1] = id
        else
          back[#back + 1] = id
        end
        queued = queued + 1
      end
      if retries ~= '' then
        redis.call('HSET', jk, 'retries_left', retries)
      end
    end
  end
  g = first + 2 * n
end
-- in slices: unpack() is bounded by the Lua stack
local function push(cmd, ids)
  for i = 1, #ids, 1000 do
    redis.call(cmd, KEYS[1], unpack(ids, i, math.min(i + 999, #ids)))
  end
end
push('LPUSH', front)
push('RPUSH', back)
if queued > 0 then
  -- wake idle workers; the signal list is bounded and is emptied when a claim finds nothing
  for _ = 1, math.min(queued, 64) do
    redis.call('LPUSH', KEYS[3], '1')
  end
  redis.call('LTRIM', KEYS[3], 0, 999)
end
return created
