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
-- ARGV[4 ..] field, value pairs (attributes and metadata of the original)
--
-- Returns 'OK' | 'EXISTS' | 'DESTROYED'

if ARGV[3] == 'create' then
  if redis.call('EXISTS', KEYS[1]) == 1 then return 'EXISTS' end
  if redis.call('EXISTS', KEYS[2]) == 1 then return 'DESTROYED' end
elseif redis.call('EXISTS', KEYS[2]) == 1 then
  return 'DESTROYED'
end
redis.call('DEL', KEYS[1])
for i = 4, #ARGV, 2000 do
  redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 1999, #ARGV)))
end
redis.call('HSET', KEYS[1], 'm:v', 1, 'm:w', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 'OK'
