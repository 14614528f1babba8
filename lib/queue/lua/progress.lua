--[[ progress: stores a running job's progress, only while this consumer still owns the delivery, and
renews the delivery's idle time (a progress report is also a heartbeat).
KEYS[1] the delivery's ready stream (its priority level's)   KEYS[2] the job's hash   KEYS[3] events stream (optional)
ARGV[1] group   ARGV[2] this consumer   ARGV[3] entry id   ARGV[4] progress (JSON text)
ARGV[5] job id   ARGV[6] events stream MAXLEN (~); 0 or absent = no event
Returns: 1 stored | 0 the delivery is not ours any more, or the job is already finished ]]
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])
if #p ~= 1 then return 0 end
local s = redis.call('HGET', KEYS[2], 's')
if s == false or s == 'completed' or s == 'dead' then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
redis.call('HSET', KEYS[2], 'p', ARGV[4])
if KEYS[3] and tonumber(ARGV[6] or '0') > 0 then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*', 'ev', 'progress', 'id', ARGV[5], 'p', ARGV[4])
end
return 1
