-- A write guarded by a fencing token: refused when a newer token of the
-- same lock has already written this resource (a stale holder, paused past
-- its lease, cannot overwrite its successor's work).
-- KEYS[1] resource key   KEYS[2] fence record: hash lock name -> highest token seen
-- ARGV[1] lock name   ARGV[2] token   ARGV[3] value   ARGV[4] PX ms ('0' = keep no expiry)
-- returns {1 written | 0 rejected, highest token seen before this call}
local seen = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if tonumber(ARGV[2]) < seen then return {0, seen} end
if ARGV[4] == '0' then
  redis.call('SET', KEYS[1], ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return {1, seen}
