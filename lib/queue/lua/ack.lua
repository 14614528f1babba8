--[[ ack: a delivery succeeded. Removes the entry and completes the job, whatever other delivery of it
exists (a retry waiting in the delayed set, or a copy re-delivered to another worker).
KEYS[1] the delivery's ready stream (its priority level's)   KEYS[2] delayed zset
KEYS[3] completed zset (job id -> completion time, server ms)   KEYS[4] events stream (optional)
ARGV[1] group   ARGV[2] entry id   ARGV[3] job key prefix   ARGV[4] job id
ARGV[5] most completed markers kept in the partition (-1 = no bound)
ARGV[6] events stream MAXLEN (~); 0 or absent = no event
The job's field r (set by add) is how long a "completed" marker is kept, so the same job id is not
enqueued again; 0 deletes the job. Kept markers are listed in KEYS[3] (trimmed by age and count here,
so memory stays bounded whatever the throughput).
A 'completed' event is appended to KEYS[4] only when this delivery completed the job.
Returns: 1 = completed by this delivery, 0 = the job was already completed (a duplicate delivery) ]]
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
local jk = ARGV[3] .. ARGV[4]
local h = redis.call('HMGET', jk, 's', 'e', 'r')
if h[1] == false or h[1] == 'completed' or h[1] == 'dead' then return 0 end
if h[2] ~= false and h[2] ~= '' and h[2] ~= ARGV[2] then
  -- Another entry of this job is queued or in flight elsewhere: it is done now.
  redis.call('XACK', KEYS[1], ARGV[1], h[2])
  redis.call('XDEL', KEYS[1], h[2])
end
redis.call('ZREM', KEYS[2], ARGV[4])
local retention = tonumber(h[3]) or 0
if retention > 0 then
  redis.call('HSET', jk, 's', 'completed', 'e', '')
  redis.call('HDEL', jk, 'd')
  redis.call('PEXPIRE', jk, retention)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('ZADD', KEYS[3], now, ARGV[4])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - retention)
  local keep = tonumber(ARGV[5] or '-1')
  if keep >= 0 then
    local excess = redis.call('ZCARD', KEYS[3]) - keep
    if excess > 0 then
      local old = redis.call('ZPOPMIN', KEYS[3], excess)
      for i = 1, #old, 2 do
        if redis.call('HGET', ARGV[3] .. old[i], 's') == 'completed' then redis.call('DEL', ARGV[3] .. old[i]) end
      end
    end
  end
else
  redis.call('DEL', jk)
end
if KEYS[4] and tonumber(ARGV[6] or '0') > 0 then
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[6], '*', 'ev', 'completed', 'id', ARGV[4])
end
return 1
