--[[ clean: removes finished jobs of one partition — dead letters (entry and job hash) or completed
markers (job hash and its entry in the completed set) — beyond a count or older than an age.
KEYS[1] dead-letter stream   KEYS[2] completed zset (job id -> completion time, server ms)
ARGV[1] job key prefix   ARGV[2] 'dead' | 'completed'   ARGV[3] keep at most this many (-1 = no bound)
ARGV[4] remove those finished more than this many ms ago (-1 = no age bound)   ARGV[5] most to remove
Returns: number removed (call again while it equals ARGV[5]) ]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local keep, age, limit = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local removed = 0
if ARGV[2] == 'dead' then
  local function drop(entries)
    for _, e in ipairs(entries) do
      local fields = e[2]
      for i = 1, #fields, 2 do
        if fields[i] == 'id' and redis.call('HGET', ARGV[1] .. fields[i + 1], 's') == 'dead' then
          redis.call('DEL', ARGV[1] .. fields[i + 1])
        end
      end
      redis.call('XDEL', KEYS[1], e[1])
      removed = removed + 1
    end
  end
  if keep >= 0 then
    local excess = math.min(redis.call('XLEN', KEYS[1]) - keep, limit)
    if excess > 0 then drop(redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', excess)) end
  end
  -- Entry ids start with the server ms the job died at.
  if age >= 0 and removed < limit then
    drop(redis.call('XRANGE', KEYS[1], '-', tostring(now - age), 'COUNT', limit - removed))
  end
else
  local function drop(ids)
    for _, id in ipairs(ids) do
      if redis.call('HGET', ARGV[1] .. id, 's') == 'completed' then redis.call('DEL', ARGV[1] .. id) end
      redis.call('ZREM', KEYS[2], id)
      removed = removed + 1
    end
  end
  if keep >= 0 then
    local excess = math.min(redis.call('ZCARD', KEYS[2]) - keep, limit)
    if excess > 0 then drop(redis.call('ZRANGE', KEYS[2], 0, excess - 1)) end
  end
  if age >= 0 and removed < limit then
    drop(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - age, 'LIMIT', 0, limit - removed))
  end
end
return removed
