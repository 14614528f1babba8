-- Session state for index maintenance: is it alive, for how long, and whose.
--
-- KEYS[1]  session hash   <prefix>{<id>}
--
-- Returns {pttl, owner}: pttl -2 when absent; owner '' when none.

local pttl = redis.call('PTTL', KEYS[1])
if pttl == -2 then return {-2, ''} end
return {pttl, redis.call('HGET', KEYS[1], 'm:u') or ''}
