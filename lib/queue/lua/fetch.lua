--[[ fetch: hands this consumer up to ARGV[3] ready jobs of one partition, highest priority first.
Used instead of a blocking XREADGROUP when the queue has priority levels or queue-wide limits: one
atomic read over the level streams means no job of a lower level is handed out while one of a higher
level is ready in the partition.
KEYS[1..n] the partition's ready streams, highest level first
ARGV[1] group   ARGV[2] this consumer   ARGV[3] most entries   ARGV[4] level of KEYS[1] (levels count down)
Returns: { entries, ids } — entries = { {level, entry id, {field, value, …}}, … };
         when entries is empty, ids = each stream's group last-delivered id (for a non-consuming
         XREAD … BLOCK that wakes once anything undelivered arrives), else ids = {} ]]
local want = tonumber(ARGV[3])
local out = {}
for k = 1, #KEYS do
  if want <= 0 then break end
  local r = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', want, 'STREAMS', KEYS[k], '>')
  if r and r[1] then
    for _, e in ipairs(r[1][2]) do
      out[#out + 1] = { tonumber(ARGV[4]) - (k - 1), e[1], e[2] }
      want = want - 1
    end
  end
end
if #out > 0 then return { out, {} } end
local ids = {}
for k = 1, #KEYS do
  local last = '0-0'
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[k])) do
    local name, id = nil, nil
    for i = 1, #g, 2 do
      if g[i] == 'name' then name = g[i + 1] elseif g[i] == 'last-delivered-id' then id = g[i + 1] end
    end
    if name == ARGV[1] then last = id end
  end
  ids[#ids + 1] = last
end
return { out, ids }
