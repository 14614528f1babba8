--[[ repeat-tick: enqueues ONE tick of a repeatable job and moves its schedule to the next tick, only
if the schedule still stands where the caller read it (compare-and-set): however many processes try
the same tick, one enqueues it. The tick's job id is "repeat:<key>:<tick ms>", so even a replayed call
finds the job and adds nothing.
KEYS[1] ready stream of the tick's priority level   KEYS[2] delayed zset   KEYS[3] schedule zset
KEYS[4] definitions hash
ARGV[1] job key prefix   ARGV[2] repeatable key   ARGV[3] expected schedule score (ms)
ARGV[4] tick to enqueue (ms; '' = none)   ARGV[5] next schedule score ('' = the schedule ended)
ARGV[6] retention ms of the completed job   ARGV[7] definition id the caller computed with
ARGV[8] the tick's priority level (stored as the job's field pr when > 0, so promote and retry-dead
        put it back into that level's stream; absent = 0)
Returns: { 1, enqueued (1/0), became_earliest } = schedule moved (became_earliest: ms until the job when
it is now the earliest delayed one, else -1) | { 0 } = someone else moved it | { -1 } = the definition
is gone or was replaced ]]
local def = redis.call('HGET', KEYS[4], ARGV[2])
if not def or cjson.decode(def).id ~= ARGV[7] then return { -1 } end
local cur = redis.call('ZSCORE', KEYS[3], ARGV[2])
if not cur or tonumber(cur) ~= tonumber(ARGV[3]) then return { 0 } end
local enqueued, became = 0, -1
local level = tonumber(ARGV[8] or '0') or 0
if ARGV[4] ~= '' then
  local tick = tonumber(ARGV[4])
  local id = 'repeat:' .. ARGV[2] .. ':' .. ARGV[4]
  local jk = ARGV[1] .. id
  if redis.call('EXISTS', jk) == 0 then
    local data = cjson.decode(def).data
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    if tick > now then
      redis.call('HSET', jk, 'd', data, 's', 'delayed', 'a', 0, 'c', now, 'e', '', 'r', ARGV[6])
      if level > 0 then redis.call('HSET', jk, 'pr', level) end
      redis.call('ZADD', KEYS[2], tick, id)
      local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
      if tonumber(first[2]) >= tick then became = tick - now end
    else
      local eid = redis.call('XADD', KEYS[1], '*', 'id', id, 'd', data, 'a', 0)
      redis.call('HSET', jk, 'd', data, 's', 'waiting', 'a', 0, 'c', now, 'e', eid, 'r', ARGV[6])
      if level > 0 then redis.call('HSET', jk, 'pr', level) end
    end
    enqueued = 1
  end
end
if ARGV[5] == '' then
  redis.call('ZREM', KEYS[3], ARGV[2])
else
  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[2])
end
return { 1, enqueued, became }
