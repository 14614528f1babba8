--[[ drain: deletes jobs not started yet — waiting in any of the partition's ready streams (one per
priority level; after the group's last delivered entry) and delayed — with their hashes. Jobs in
flight (delivered, not acknowledged) are left alone.
KEYS[1] ready stream (priority 0)   KEYS[2] delayed zset   KEYS[3..] ready streams of priorities 1, 2, …
ARGV[1] group   ARGV[2] job key prefix   ARGV[3] most jobs of each kind (waiting, delayed) to delete in
this call, over all ready streams together
Returns: { waiting deleted, delayed deleted } ]]
local n = tonumber(ARGV[3])
local waiting = 0
local function drainStream(stream)
  local start = '-'
  if redis.call('EXISTS', stream) == 1 then
    for _, g in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
      local f = {}
      for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
      if f['name'] == ARGV[1] then start = '(' .. f['last-delivered-id'] end
    end
  end
  for _, entry in ipairs(redis.call('XRANGE', stream, start, '+', 'COUNT', n - waiting)) do
    local eid, fields = entry[1], entry[2]
    for i = 1, #fields, 2 do
      if fields[i] == 'id' then
        local jk = ARGV[2] .. fields[i + 1]
        if redis.call('HGET', jk, 'e') == eid then redis.call('DEL', jk) end
      end
    end
    redis.call('XDEL', stream, eid)
    waiting = waiting + 1
  end
end
for k = 1, #KEYS do
  if k ~= 2 and waiting < n then drainStream(KEYS[k]) end
end
local delayed = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, n - 1)) do
  local jk = ARGV[2] .. id
  if redis.call('HGET', jk, 's') == 'delayed' then redis.call('DEL', jk) end
  redis.call('ZREM', KEYS[2], id)
  delayed = delayed + 1
end
return { waiting, delayed }
