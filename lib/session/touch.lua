-- Session touch: slide the expiry of a live session (bounded by its absolute
-- lifetime) and record the access time.
--
-- KEYS[1]  session hash   <prefix>{<id>}
-- ARGV[1]  idle timeout in ms ('' keeps the stored one)
--
-- Returns the new expiry as epoch ms; 0 when the session does not exist;
-- -1 when its absolute lifetime is over (it is deleted).

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] ~= '' then
  redis.call('HSET', KEYS[1], 'm:i', ARGV[1], 'm:l', now)
else
  redis.call('HSET', KEYS[1], 'm:l', now)
end
local ttl = tonumber(redis.call('HGET', KEYS[1], 'm:i'))
local deadline = redis.call('HGET', KEYS[1], 'm:a')
if deadline then ttl = math.min(ttl, tonumber(deadline) - now) end
if ttl <= 0 then
  redis.call('DEL', KEYS[1])
  return -1
end
redis.call('PEXPIRE', KEYS[1], ttl)
return now + ttl
