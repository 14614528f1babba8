--[[ retry-dead: moves dead-lettered jobs back into the ready stream with fresh deliveries.
KEYS[1] ready stream (priority 0)   KEYS[2] dead-letter stream   KEYS[3..] ready streams of priorities 1, 2, …
ARGV[1] job key prefix   ARGV[2] most jobs to move
Returns: number of jobs re-enqueued ]]
local entries = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', tonumber(ARGV[2]))
local n = 0
for _, entry in ipairs(entries) do
  local did, fields = entry[1], entry[2]
  local f = {}
  for i = 1, #fields, 2 do f[fields[i]] = fields[i + 1] end
  if f.id ~= nil and f.d ~= nil then
    local level = tonumber(redis.call('HGET', ARGV[1] .. f.id, 'pr')) or 0
    local stream = KEYS[1]
    if level > 0 and KEYS[2 + level] ~= nil then stream = KEYS[2 + level] end
    local eid = redis.call('XADD', stream, '*', 'id', f.id, 'd', f.d, 'a', 0)
    redis.call('HSET', ARGV[1] .. f.id, 'd', f.d, 's', 'waiting', 'a', 0, 'e', eid)
    n = n + 1
  end
  redis.call('XDEL', KEYS[2], did)
end
return n
