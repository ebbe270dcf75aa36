-- Move due jobs from `scheduled` to `queued`, at most ARGV[2] of them.
-- at_front jobs go to the head of `queued` in due order (the earliest due is picked up first).
-- Returns {moved, examined, held}: an id whose record is gone is dropped, and counts as examined
-- only, so the caller knows whether more due entries may remain.
-- With ARGV[4] (workers pass it), a task's occurrence due before that time is held back: it was
-- missed during downtime, and the scheduler applies the task's misfire policy to it first.
-- KEYS: 1 scheduled zset, 2 queued list, 3 signal list
-- ARGV: 1 now, 2 limit, 3 job key prefix, 4 (optional) hold task occurrences due before this
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
local hold = ARGV[4] and tonumber(ARGV[4])
local ids = {}
for i = 1, #due, 2 do
  local id = due[i]
  if not (hold and tonumber(due[i + 1]) < hold and string.sub(id, 1, 5) == 'task-') then
    table.insert(ids, id)
  end
end
local moved = 0
local front_ids = {}
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  local jk = ARGV[3] .. id
  local front = redis.call('HGET', jk, 'at_front')
  -- a retried job has no at_front field (only jobs enqueued as scheduled do): its record decides
  if front or redis.call('EXISTS', jk) == 1 then
    redis.call('HSET', jk, 'status', 'queued', 'enqueued_at', ARGV[1])
    if front == '1' then
      table.insert(front_ids, id)
    else
      redis.call('RPUSH', KEYS[2], id)
    end
    moved = moved + 1
  end
end
for i = #front_ids, 1, -1 do
  redis.call('LPUSH', KEYS[2], front_ids[i])
end
if moved > 0 then
  for _ = 1, math.min(moved, 64) do
    redis.call('LPUSH', KEYS[3], '1')
  end
  redis.call('LTRIM', KEYS[3], 0, 999)
end
return {moved, #due / 2, #due / 2 - #ids}
