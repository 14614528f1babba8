-- Session read: every field of a session hash and its remaining time to
-- live, in one atomic step.
--
-- KEYS[1]  session hash   <prefix>{<id>}
--
-- Returns {pttl, field1, value1, field2, value2, ...}; {-2} when absent.

local pttl = redis.call('PTTL', KEYS[1])
if pttl == -2 then return {-2} end
local out = redis.call('HGETALL', KEYS[1])
table.insert(out, 1, pttl)
return out
