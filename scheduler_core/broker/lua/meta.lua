-- Job.save_meta: replace the record's `meta` field (JSON) and nothing else; a job whose record
-- is gone is not recreated. Returns 1 when written, 0 when there is no record.
-- KEYS: 1 job hash
-- ARGV: 1 meta (JSON)
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'meta', ARGV[1])
return 1
