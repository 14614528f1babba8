-- Grants the read or the write side of a read-write lock.
-- Readers share; a writer excludes readers and other writers. A waiting
-- writer leaves an "intent" that stops NEW readers, so a steady stream of
-- readers cannot starve writers. A retry by the same owner re-grants.
-- KEYS[1] writer hash {owner, token}, expires with the lease
-- KEYS[2] readers zset: owner -> expiry (server ms)
-- KEYS[3] writer intent: owner of the oldest waiting writer, short expiry
-- KEYS[4] fencing counter (never expires)
-- ARGV[1] 'r' | 'w'   ARGV[2] owner   ARGV[3] lease ms   ARGV[4] intent ttl ms
-- returns {1, token, grantedAtUs} on grant, {0, ms until a retry makes sense, 0}
local t = redis.call('TIME')
local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])
local nowMs = math.floor(nowUs / 1000)
local mode, owner, lease = ARGV[1], ARGV[2], tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', nowMs)
local writer = redis.call('HGET', KEYS[1], 'owner')

if mode == 'r' then
  local mine = redis.call('ZSCORE', KEYS[2], owner)
  if writer then return {0, redis.call('PTTL', KEYS[1]), 0} end
  if not mine and redis.call('EXISTS', KEYS[3]) == 1 then return {0, redis.call('PTTL', KEYS[3]), 0} end
  redis.call('ZADD', KEYS[2], nowMs + lease, owner)
  if redis.call('PTTL', KEYS[2]) < lease then redis.call('PEXPIRE', KEYS[2], lease) end
else
  if writer and writer ~= owner then
    if redis.call('EXISTS', KEYS[3]) == 0 then redis.call('SET', KEYS[3], owner, 'PX', ARGV[4]) end
    return {0, redis.call('PTTL', KEYS[1]), 0}
  end
  local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
  if #last > 0 then
    local intent = redis.call('GET', KEYS[3])
    if not intent or intent == owner then redis.call('SET', KEYS[3], owner, 'PX', ARGV[4]) end
    return {0, tonumber(last[2]) - nowMs, 0}
  end
  -- Readers are held back by the write grant itself from now on.
  redis.call('DEL', KEYS[3])
end

local token = redis.call('INCR', KEYS[4])
if mode == 'w' then
  redis.call('HSET', KEYS[1], 'owner', owner, 'token', token)
  redis.call('PEXPIRE', KEYS[1], lease)
end
return {1, token, nowUs}
