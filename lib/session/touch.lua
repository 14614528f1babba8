-- Session touch: slide the expiry of a live session, bounded by its absolute
-- lifetime. Reads only (HGET, PTTL) in the common case: the idle timeout
-- unchanged and the expiry already within 1/1000 of the new one.
--
-- KEYS[1]  session hash   <prefix>{<id>}
-- ARGV[1]  now, epoch ms (the application's clock)
-- ARGV[2]  idle timeout in ms ('' keeps the stored one; a new value is stored)
--
-- Metadata field 'm' = "version|created|updated|idle|deadline|owner" (see write.lua).
-- Returns the expiry as epoch ms; 0 when the session does not exist;
-- -1 when its absolute lifetime is over (it is deleted).

local now = tonumber(ARGV[1])
local meta = redis.call('HGET', KEYS[1], 'm')
if not meta then return 0 end
local v, c, w, idle, a, u = string.match(meta, '^(%d+)|(%d*)|(%d*)|(%d+)|(%d*)|(.*)$')
if ARGV[2] ~= '' and ARGV[2] ~= idle then
  idle = ARGV[2]
  redis.call('HSET', KEYS[1], 'm', v .. '|' .. c .. '|' .. w .. '|' .. idle .. '|' .. a .. '|' .. u)
end
local ttl = tonumber(idle)
if a ~= '' then ttl = math.min(ttl, tonumber(a) - now) end
if ttl <= 0 then
  redis.call('DEL', KEYS[1])
  return -1
end
-- Sliding expiry with a precision of 1/1000 of the time to live (86 s of a
-- day, 1.8 s of 30 min): when the current expiry already lies within that
-- below the new one, it stays, and the touch writes nothing — no write to
-- replicate for the most frequent session operation. It is never moved
-- later than asked, so the absolute lifetime still holds.
local current = redis.call('PTTL', KEYS[1])
if current >= ttl - math.floor(ttl / 1000) and current <= ttl then return now + current end
redis.call('PEXPIRE', KEYS[1], ttl)
return now + ttl
