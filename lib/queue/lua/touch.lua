--[[ touch: heartbeat. Resets the idle time of deliveries this consumer still owns, so they are not
reclaimed while their handler runs; never takes one back from another consumer.
KEYS[1] ready stream
ARGV[1] group   ARGV[2] this consumer   ARGV[3..] entry ids
Returns: entry ids this consumer does NOT own any more (reclaimed by another worker, or gone) ]]
local lost = {}
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2])
  if #p == 1 then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
