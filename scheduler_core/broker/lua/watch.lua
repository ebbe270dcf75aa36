-- Job.wait: count one more waiter on a job's record and return its status, in one step, so the
-- terminal move (finish / reap / cancel) either ran before (the status says so) or will push a
-- token for this waiter on the done list. Returns false when there is no record.
-- KEYS: 1 job hash
if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
redis.call('HINCRBY', KEYS[1], 'waiters', 1)
return redis.call('HGET', KEYS[1], 'status')
