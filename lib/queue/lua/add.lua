--[[ add: enqueue jobs into one partition, each at most once per job id.
KEYS[1] ready stream (priority 0)   KEYS[2] delayed zset   KEYS[3..] ready streams of priorities 1, 2, …
ARGV[1] job key prefix (same hash tag: "<prefix>{tag}:job:")
ARGV[2..] quintuples: job id, serialized payload, delay ms (0 = ready now), retention ms (how long
          ack keeps a "completed" marker for the id; 0 = delete at once), priority level
Returns: { added_1, …, added_n, became_earliest }
  added_i = 1 when enqueued, 0 when a job with that id already exists (or is remembered as completed)
  became_earliest = delay ms of the earliest delayed job when this call added it, else -1
Due times use the server clock (TIME), so producers' clocks do not matter. ]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
local earliest_added = nil
for i = 2, #ARGV, 5 do
  local id, data, delay, keep, level = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3], tonumber(ARGV[i + 4])
  local stream = KEYS[1]
  if level > 0 then stream = KEYS[2 + level] end
  local jk = ARGV[1] .. id
  if redis.call('EXISTS', jk) == 1 then
    out[#out + 1] = 0
  else
    if delay > 0 then
      redis.call('HSET', jk, 'd', data, 's', 'delayed', 'a', 0, 'c', now, 'e', '', 'r', keep)
      if level > 0 then redis.call('HSET', jk, 'pr', level) end
      redis.call('ZADD', KEYS[2], now + delay, id)
      if earliest_added == nil or now + delay < earliest_added then earliest_added = now + delay end
    else
      local eid = redis.call('XADD', stream, '*', 'id', id, 'd', data, 'a', 0)
      redis.call('HSET', jk, 'd', data, 's', 'waiting', 'a', 0, 'c', now, 'e', eid, 'r', keep)
      if level > 0 then redis.call('HSET', jk, 'pr', level) end
    end
    out[#out + 1] = 1
  end
end
local became = -1
if earliest_added ~= nil then
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if first[2] ~= nil and tonumber(first[2]) >= earliest_added then became = earliest_added - now end
end
out[#out + 1] = became
return out
