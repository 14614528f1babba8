-- Releases one grant if ARGV[2] still holds it, and announces it on the
-- lock's sharded channel so waiters retry at once. Never touches a grant of
-- another owner (e.g. one made after ours expired).
-- KEYS[1] the grant's key: a hash {owner, token} ('h'), a reentrant hash {owner, token,
--         hold:<id>…} ('r': ARGV[2] is the hold id; the lock is free once no hold is left)
--         or a holders zset ('z')
-- ARGV[1] kind 'h' | 'r' | 'z'   ARGV[2] owner   ARGV[3] channel to SPUBLISH on ('' = none)
-- returns {1 released | 0 not held (expired or never ours), server time us}
local t = redis.call('TIME')
local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])
local nowMs = math.floor(nowUs / 1000)
local released = 0
local free = true
if ARGV[1] == 'h' then
  if redis.call('HGET', KEYS[1], 'owner') == ARGV[2] then
    redis.call('DEL', KEYS[1])
    released = 1
  end
elseif ARGV[1] == 'r' then
  -- One hold, removed by its own id: a resent release cannot take a second hold of the same owner.
  if redis.call('HDEL', KEYS[1], 'hold:' .. ARGV[2]) == 1 then
    released = 1
    if redis.call('HLEN', KEYS[1]) <= 2 then redis.call('DEL', KEYS[1]) else free = false end
  end
else
  local score = redis.call('ZSCORE', KEYS[1], ARGV[2])
  if score then
    redis.call('ZREM', KEYS[1], ARGV[2])
    -- A permit that had already run out was not ours any more.
    if tonumber(score) > nowMs then released = 1 end
  end
end
if released == 1 and free and ARGV[3] ~= '' then redis.call('SPUBLISH', ARGV[3], 'released') end
return {released, nowUs}
