-- Session state for index maintenance: is it alive, for how long, and whose.
--
-- KEYS[1]  session hash   <prefix>{<id>}
--
-- Metadata field 'm' = "version|created|updated|idle|deadline|owner" (see write.lua).
-- Returns {pttl, owner}: pttl -2 when absent; owner '' when none.

local meta = redis.call('HGET', KEYS[1], 'm')
if not meta then return {-2, ''} end
return {redis.call('PTTL', KEYS[1]), string.match(meta, '^%d+|%d*|%d*|%d+|%d*|(.*)$')}
