--[[ repeat-remove: deletes a repeatable job's definition and schedule, and cancels its ticks that were
enqueued ahead of time and are still waiting in the delayed set (a tick already due runs).
KEYS[1] schedule zset   KEYS[2] definitions hash   KEYS[3] delayed zset
ARGV[1] job key prefix   ARGV[2] repeatable key   ARGV[3] expected schedule score ('' = none)
ARGV[4..] job ids of ticks that may be waiting
Returns: 1 = removed | 0 = there was no such repeatable | -1 = the schedule moved meanwhile (read again) ]]
local cur = redis.call('ZSCORE', KEYS[1], ARGV[2])
if (cur or '') ~= '' and ARGV[3] ~= '' and tonumber(cur) ~= tonumber(ARGV[3]) then return -1 end
if (cur and ARGV[3] == '') then return -1 end
local existed = redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[1], ARGV[2])
for i = 4, #ARGV do
  local jk = ARGV[1] .. ARGV[i]
  if redis.call('HGET', jk, 's') == 'delayed' then
    redis.call('ZREM', KEYS[3], ARGV[i])
    redis.call('DEL', jk)
  end
end
return existed
