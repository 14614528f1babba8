-- Session clone (regenerate): write a copy of a session's fields under a new
-- id with the remaining lifetime of the original. The two ids hash to
-- different slots, so the copy and the removal of the original are two steps;
-- the caller removes the original only if its version did not change.
--
-- KEYS[1]  new session hash   <prefix>{<newId>}
-- KEYS[2]  its tombstone      <prefix>{<newId>}:destroyed
-- ARGV[1]  now, epoch ms (the application's clock)
-- ARGV[2]  time to live in ms (> 0)
-- ARGV[3]  'create' (fails if the id exists or was destroyed) | 'overwrite' (a retry of our own copy)
-- ARGV[4]  metadata of the original ('m' = "version|created|updated|idle|deadline|owner")
-- ARGV[5 ..] attribute field, value pairs of the original
--
-- The copy starts at version 1, updated now; created, idle, deadline and owner are kept.
-- Returns 'OK' | 'EXISTS' | 'DESTROYED'

if ARGV[3] == 'create' then
  if redis.call('EXISTS', KEYS[1]) == 1 then return 'EXISTS' end
  if redis.call('EXISTS', KEYS[2]) == 1 then return 'DESTROYED' end
elseif redis.call('EXISTS', KEYS[2]) == 1 then
  return 'DESTROYED'
end
local c, i, a, u = string.match(ARGV[4], '^%d+|(%d*)|%d*|(%d+)|(%d*)|(.*)$')
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'm', '1|' .. c .. '|' .. ARGV[1] .. '|' .. i .. '|' .. a .. '|' .. u)
for j = 5, #ARGV, 2000 do
  redis.call('HSET', KEYS[1], unpack(ARGV, j, math.min(j + 1999, #ARGV)))
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 'OK'
