-- Counts a latch down by one; at zero the latch is deleted and waiters are
-- woken. A missing latch counts as already open (0).
-- KEYS[1] latch counter   ARGV[1] channel to SPUBLISH on
-- returns the count after this call (0 = open)
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = redis.call('DECR', KEYS[1])
if n <= 0 then
  redis.call('DEL', KEYS[1])
  redis.call('SPUBLISH', ARGV[1], 'open')
  return 0
end
return n
