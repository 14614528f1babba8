--[[ release: a closing worker gives deliveries back without using them up: each is marked idle for
longer than the visibility timeout, so the next reclaim by any worker takes it at once.
KEYS[1] ready stream
ARGV[1] group   ARGV[2] this consumer   ARGV[3] idle ms to set   ARGV[4] job key prefix
ARGV[5..] entry ids
Returns: number of deliveries released (entries this consumer no longer owns are skipped) ]]
local n = 0
for i = 5, #ARGV do
  local eid = ARGV[i]
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], eid, eid, 1, ARGV[2])
  if #p == 1 then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, eid, 'IDLE', tonumber(ARGV[3]), 'JUSTID')
    local entry = redis.call('XRANGE', KEYS[1], eid, eid)
    if entry[1] ~= nil then
      local fields = entry[1][2]
      for j = 1, #fields, 2 do
        -- The reclaim that picks it up counts a used delivery; this one was not used.
        if fields[j] == 'id' and redis.call('EXISTS', ARGV[4] .. fields[j + 1]) == 1 then
          redis.call('HINCRBY', ARGV[4] .. fields[j + 1], 'a', -1)
        end
      end
    end
    n = n + 1
  end
end
return n
