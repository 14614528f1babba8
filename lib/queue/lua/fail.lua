--[[ fail: a delivery failed. Retries the job after a backoff (delayed set, server time) or, once
it has used up its deliveries, moves it to the dead-letter stream with the error (or, with
removeOnDead: true, deletes it).
KEYS[1] the delivery's ready stream (its priority level's)   KEYS[2] delayed zset
KEYS[3] dead-letter stream   KEYS[4] events stream (optional)
ARGV[1] group   ARGV[2] entry id   ARGV[3] job key prefix   ARGV[4] job id   ARGV[5] error text
ARGV[6] max deliveries   ARGV[7] backoff ms   ARGV[8] '1' = keep no dead letter (removeOnDead: true)
ARGV[9] events stream MAXLEN (~); 0 or absent = no event
Events: 'failed' (with the backoff) when a retry is scheduled, 'dead' when the job used its deliveries
(also when no dead letter is kept); none when stale.
Returns: { 1, attempts, became_earliest } = retry scheduled (became_earliest: the backoff when it is
         now the earliest delayed job, else -1); { 2, attempts } = dead-lettered (or deleted);
         { 0 } = stale (another delivery already moved the job on) ]]
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
local jk = ARGV[3] .. ARGV[4]
local h = redis.call('HMGET', jk, 's', 'e', 'a', 'd')
if h[1] == false or h[1] == 'completed' or h[1] == 'dead' or h[2] ~= ARGV[2] then return { 0 } end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local attempts = tonumber(h[3]) + 1
local events = KEYS[4] and tonumber(ARGV[9] or '0') > 0
if attempts >= tonumber(ARGV[6]) then
  if ARGV[8] == '1' then
    redis.call('DEL', jk)
  else
    redis.call('XADD', KEYS[3], '*', 'id', ARGV[4], 'd', h[4], 'err', ARGV[5], 'a', attempts, 'at', now)
    redis.call('HSET', jk, 's', 'dead', 'a', attempts, 'err', ARGV[5], 'e', '')
  end
  if events then redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[9], '*', 'ev', 'dead', 'id', ARGV[4], 'err', ARGV[5], 'a', attempts) end
  return { 2, attempts }
end
local due = now + tonumber(ARGV[7])
redis.call('ZADD', KEYS[2], due, ARGV[4])
redis.call('HSET', jk, 's', 'delayed', 'a', attempts, 'err', ARGV[5], 'e', '')
if events then redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[9], '*', 'ev', 'failed', 'id', ARGV[4], 'err', ARGV[5], 'a', attempts, 'in', ARGV[7]) end
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local became = -1
if tonumber(first[2]) >= due then became = tonumber(ARGV[7]) end
return { 1, attempts, became }
