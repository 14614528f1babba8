--[[ promote: move delayed jobs that are due (server time) into the ready stream. Any worker may run
it at any time; it is atomic, so concurrent callers never promote a job twice.
KEYS[1] ready stream (priority 0)   KEYS[2] delayed zset   KEYS[3..] ready streams of priorities 1, 2, …
(a job goes back to its priority's stream: the level is the job hash's field pr)
ARGV[1] job key prefix   ARGV[2] most jobs to move in this call
Returns: { moved, next } — next = ms until the earliest remaining delayed job (0: more are due now), -1: none ]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local moved = 0
for _, id in ipairs(due) do
  local jk = ARGV[1] .. id
  local h = redis.call('HMGET', jk, 's', 'd', 'a', 'pr')
  redis.call('ZREM', KEYS[2], id)
  if h[1] == 'delayed' then
    local level = tonumber(h[4]) or 0
    local stream = KEYS[1]
    if level > 0 and KEYS[2 + level] ~= nil then stream = KEYS[2 + level] end
    local eid = redis.call('XADD', stream, '*', 'id', id, 'd', h[2], 'a', h[3])
    redis.call('HSET', jk, 's', 'waiting', 'e', eid)
    moved = moved + 1
  end
end
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local next = -1
if first[2] ~= nil then
  next = tonumber(first[2]) - now
  if next < 0 then next = 0 end
end
return { moved, next }
