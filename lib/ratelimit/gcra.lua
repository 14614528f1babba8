-- One GCRA (generic cell rate algorithm) check of one limited key: grants
-- ARGV[3] units when the key's theoretical arrival time (TAT) allows it and
-- moves the TAT on; refuses otherwise and writes nothing. All times are this
-- server's clock, so every process shares one view of "now".
-- KEYS[1] the key's TAT (server µs, integer); expires when the key is idle (full burst) again
-- ARGV[1] emission interval µs (periodMs × 1000 / limit; may be fractional)
-- ARGV[2] burst tolerance µs (burst × interval)
-- ARGV[3] units requested (1 ≤ n ≤ burst, checked by the caller)
-- returns {granted 1|0, units still grantable now, retry after µs (0 when granted),
--          µs until the key is idle again, server time µs}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local n = tonumber(ARGV[3])

local tat = tonumber(redis.call('GET', KEYS[1]) or 0) or 0
if tat < now then tat = now end
local newTat = tat + n * interval
local allowAt = newTat - tolerance

local function left(at)
  local v = math.floor((tolerance - (at - now)) / interval)
  if v < 0 then return 0 end
  return v
end

if allowAt > now then
  return {0, left(tat), math.ceil(allowAt - now), math.ceil(tat - now), now}
end

-- Rounded up: a stored TAT may only be later than the exact one (stricter, never looser).
newTat = math.ceil(newTat)
redis.call('SET', KEYS[1], string.format('%.0f', newTat), 'PX', math.max(1, math.ceil((newTat - now) / 1000)))
return {1, left(newTat), 0, newTat - now, now}
