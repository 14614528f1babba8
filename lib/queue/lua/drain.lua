--[[ drain: deletes jobs not started yet — waiting in the ready stream (after the group's last delivered
entry) and delayed — with their hashes. Jobs in flight (delivered, not acknowledged) are left alone.
KEYS[1] ready stream   KEYS[2] delayed zset
ARGV[1] group   ARGV[2] job key prefix   ARGV[3] most jobs of each kind to delete in this call
Returns: { waiting deleted, delayed deleted } ]]
local n = tonumber(ARGV[3])
local start = '-'
if redis.call('EXISTS', KEYS[1]) == 1 then
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
    local f = {}
    for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
    if f['name'] == ARGV[1] then start = '(' .. f['last-delivered-id'] end
  end
end
local waiting = 0
for _, entry in ipairs(redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', n)) do
  local eid, fields = entry[1], entry[2]
  for i = 1, #fields, 2 do
    if fields[i] == 'id' then
      local jk = ARGV[2] .. fields[i + 1]
      if redis.call('HGET', jk, 'e') == eid then redis.call('DEL', jk) end
    end
  end
  redis.call('XDEL', KEYS[1], eid)
  waiting = waiting + 1
end
local delayed = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, n - 1)) do
  local jk = ARGV[2] .. id
  if redis.call('HGET', jk, 's') == 'delayed' then redis.call('DEL', jk) end
  redis.call('ZREM', KEYS[2], id)
  delayed = delayed + 1
end
return { waiting, delayed }
