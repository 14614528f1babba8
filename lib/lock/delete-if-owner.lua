-- Deletes a key only while it still holds ARGV[1] (a waiting writer that
-- gives up withdraws its own intent, never another writer's).
-- KEYS[1] key   ARGV[1] expected value
-- returns 1 deleted | 0 not ours
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
