-- Grants a mutex to ARGV[1] when it is free or already held by ARGV[1]
-- (so a retried acquire after a lost reply is safe), with a new fencing token.
-- In fair mode, a free lock goes to the oldest live waiter first.
-- KEYS[1] lock hash {owner, token}, expires with the lease
-- KEYS[2] fencing counter (never expires: tokens must keep increasing)
-- KEYS[3] fair queue: zset waiter -> first-seen server time (us)
-- KEYS[4] fair queue liveness: zset waiter -> expiry (server ms)
-- ARGV[1] owner (this acquisition's id)   ARGV[2] lease ms   ARGV[3] '1' = fair   ARGV[4] waiter ttl ms
-- ARGV[5] reentrant identity ('' = not reentrant). A reentrant grant stores the identity as
--         'owner' and one field 'hold:<ARGV[1]>' per hold: the same identity is granted again
--         (same token, one more hold, the lease never shortened); release removes one hold.
-- returns {1, token, grantedAtUs} on grant,
--         {0, holder's remaining lease ms (0 = free but not our turn), queue position (0-based, -1 unfair)}
local t = redis.call('TIME')
local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])
local nowMs = math.floor(nowUs / 1000)
local owner = ARGV[1]
local fair = ARGV[3] == '1'
local identity = ARGV[5] or ''
local reentrant = identity ~= ''

local function enqueue()
  if redis.call('ZSCORE', KEYS[3], owner) == false then
    redis.call('ZADD', KEYS[3], nowUs, owner)
  end
  redis.call('ZADD', KEYS[4], nowMs + tonumber(ARGV[4]), owner)
  local ttl = tonumber(ARGV[4]) * 2
  redis.call('PEXPIRE', KEYS[3], ttl)
  redis.call('PEXPIRE', KEYS[4], ttl)
  return redis.call('ZRANK', KEYS[3], owner)
end

if fair then
  -- Waiters that stopped polling (crashed, gave up) lose their place.
  local dead = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', nowMs)
  for i = 1, #dead do redis.call('ZREM', KEYS[3], dead[i]) end
  if #dead > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', nowMs) end
end

local holder = redis.call('HGET', KEYS[1], 'owner')
if reentrant and holder == identity then
  redis.call('HSET', KEYS[1], 'hold:' .. owner, 1)
  if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
  return {1, tonumber(redis.call('HGET', KEYS[1], 'token')), nowUs}
end
-- Who holds the grant: the identity when reentrant, else this acquisition (the fair queue always uses the latter).
local holderId = owner
if reentrant then holderId = identity end

if holder and holder ~= holderId then
  local pos = -1
  if fair then pos = enqueue() end
  return {0, redis.call('PTTL', KEYS[1]), pos}
end

if fair and not holder then
  local head = redis.call('ZRANGE', KEYS[3], 0, 0)[1]
  if head and head ~= owner then return {0, 0, enqueue()} end
  redis.call('ZREM', KEYS[3], owner)
  redis.call('ZREM', KEYS[4], owner)
end

local token = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'owner', holderId, 'token', token)
if reentrant then redis.call('HSET', KEYS[1], 'hold:' .. ARGV[1], 1) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, token, nowUs}
