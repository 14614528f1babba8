--[[ repeat-put: creates or replaces a repeatable job's definition. Putting the same definition again
(every process may do so at start-up) changes nothing, so its schedule goes on where it is.
KEYS[1] schedule zset (key -> next tick not yet enqueued)   KEYS[2] definitions hash
ARGV[1] repeatable key   ARGV[2] definition JSON (fields id, sig, …)   ARGV[3] its sig (what makes two
definitions the same)   ARGV[4] first tick (ms)
Returns: { 1, id } = created or replaced (schedule set to the first tick) | { 0, id } = unchanged ]]
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if cur then
  local d = cjson.decode(cur)
  if d.sig == ARGV[3] and redis.call('ZSCORE', KEYS[1], ARGV[1]) then return { 0, d.id } end
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
return { 1, cjson.decode(ARGV[2]).id }
