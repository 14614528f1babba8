-- Takes one permit of a semaphore for ARGV[1] when fewer than ARGV[3] live
-- permits are out (or ARGV[1] already has one: a retry re-grants it).
-- Permits that were not renewed in time are reclaimed first, so a crashed
-- holder's permit comes back after its lease.
-- KEYS[1] holders zset: owner -> permit expiry (server ms)
-- KEYS[2] fencing counter (never expires)
-- ARGV[1] owner   ARGV[2] lease ms   ARGV[3] permits
-- returns {1, token, grantedAtUs} on grant,
--         {0, ms until the first permit expires, permits out}
local t = redis.call('TIME')
local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])
local nowMs = math.floor(nowUs / 1000)
local owner, lease, permits = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', nowMs)
local mine = redis.call('ZSCORE', KEYS[1], owner)
local out = redis.call('ZCARD', KEYS[1])
if not mine and out >= permits then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(first[2]) - nowMs, out}
end
redis.call('ZADD', KEYS[1], nowMs + lease, owner)
-- The set lives as long as its longest permit.
if redis.call('PTTL', KEYS[1]) < lease then redis.call('PEXPIRE', KEYS[1], lease) end
local token = redis.call('INCR', KEYS[2])
return {1, token, nowUs}
