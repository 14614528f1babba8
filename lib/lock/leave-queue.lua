-- Removes a waiter that gave up from a fair lock's queue, and wakes the
-- others: it may have been at the head, holding everyone back.
-- KEYS[1] fair queue zset   KEYS[2] queue liveness zset
-- ARGV[1] waiter   ARGV[2] channel to SPUBLISH on
-- returns 1 when the waiter was queued
local n = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if n == 1 then redis.call('SPUBLISH', ARGV[2], 'left') end
return n
