-- Move due jobs from `scheduled` to `queued`, at most ARGV[2] of them.
-- at_front jobs go to the head of `queued` in due order (the earliest due is picked up first).
-- Returns {moved, more}: more is 1 when a limit cut the batch short and the caller should call
-- again (never when the batch took nothing out: that would spin).
-- With ARGV[4] (workers pass it), a task's occurrence due before that time is held back: it was
-- missed during downtime, and the scheduler applies the task's misfire policy to it first. Held
-- entries are the oldest, so they are paged past (at most 10 pages a call), never let to block
-- the jobs behind them.
-- The time: ARGV[1], or when it is "" the server's clock (TIME), read here because a script may
-- run long after its caller read a clock (a paused or busy server, a slow network): an
-- occurrence that became late meanwhile must meet the misfire policy, not be moved as on time.
-- KEYS: 1 scheduled zset, 2 queued list, 3 signal list
-- ARGV: 1 now ("" = TIME), 2 limit, 3 job key prefix, 4 (optional) hold task occurrences due
--       before this ("" = none), 5 (optional) or: hold those due more than this many seconds ago,
--       6 (optional) but not those due before this (the scheduler judged them in its pass), and
--       nothing at all unless its pass stalled: began (ARGV[6] + ARGV[5]) more than ARGV[5] ago
if ARGV[1] == '' then
  if redis.replicate_commands then
    redis.replicate_commands()  -- servers before 5.0: replicate effects, TIME is not repeatable
  end
  local t = redis.call('TIME')
  ARGV[1] = string.format('%.6f', tonumber(t[1]) + tonumber(t[2]) / 1000000)
end
if (ARGV[4] == nil or ARGV[4] == '') and ARGV[5] and ARGV[5] ~= '' then
  ARGV[4] = string.format('%.6f', tonumber(ARGV[1]) - tonumber(ARGV[5]))
end
if ARGV[4] == '' then
  ARGV[4] = nil
end
local hold_from = ARGV[6] and tonumber(ARGV[6])
if hold_from and ARGV[5] and ARGV[5] ~= '' and tonumber(ARGV[1]) - hold_from <= 2 * tonumber(ARGV[5]) then
  -- the caller's pass began (hold_from + grace) less than a grace ago: a slow pass, not a stall
  -- (a paused broker); what it planned late is promoted as before
  ARGV[4] = nil
end
local limit = tonumber(ARGV[2])
local ids = {}
local more = 0
local low = '-inf'
if ARGV[4] then
  local offset = 0
  while true do
    local page = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[4], 'WITHSCORES', 'LIMIT', offset, limit)
    for i = 1, #page, 2 do
      local id = page[i]
      if string.sub(id, 1, 5) ~= 'task-' or (hold_from and tonumber(page[i + 1]) < hold_from) then
        table.insert(ids, id)
      end
    end
    if #page < 2 * limit then
      break
    end
    offset = offset + limit
    if #ids >= limit or offset >= 10 * limit then
      more = 1
      break
    end
  end
  low = ARGV[4]
end
local room = limit - #ids
if room > 0 then
  local due = redis.call('ZRANGEBYSCORE', KEYS[1], low, ARGV[1], 'LIMIT', 0, room)
  for _, id in ipairs(due) do
    table.insert(ids, id)
  end
  if #due == room then
    more = 1
  end
else
  more = 1
end
if #ids == 0 then
  more = 0
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
return {moved, more}
