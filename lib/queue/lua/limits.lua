--[[ limits: the queue-wide rate limit and concurrency cap, in one slot (the queue's "limits" hash tag).
The rate limit is the GCRA of lib/ratelimit/gcra.lua (same algorithm, same bound: in any window of
W µs at most tolerance + W / interval grants) extended to PARTIAL grants: a worker asks for up to n jobs
and gets as many as the budget allows now. The cap is a set of leases scored by expiry (server ms):
a worker that dies stops renewing its leases and they expire.
KEYS[1] rate state (hash: t = TAT server µs, c = when the TAT last restarted from an idle "now")
KEYS[2] running leases (zset member -> expiry ms)
ARGV[1] op: 'acquire' | 'release' | 'renew'
acquire: ARGV[2] wanted n   ARGV[3] interval µs (0 = no rate limit)   ARGV[4] tolerance µs
         ARGV[5] cap (0 = none)   ARGV[6] lease ms   ARGV[7..6+n] lease names (only with a cap)
         Returns { granted, retry after µs (when 0 granted; -1 = wait for a lease to be released), server µs (when granted) }
         (the retry after is when all n would fit, at most half the tolerance, at least when one fits)
release: ARGV[2] unused rate units to give back   ARGV[3] interval µs   ARGV[4] server µs they were granted at
         ARGV[5..] leases to drop. Units granted before the TAT last restarted are forgotten already:
         giving them back would grant them twice.   Returns 0
renew:   ARGV[2] lease ms   ARGV[3..] leases   Returns the number still held ]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local nowMs = math.floor(now / 1000)
local op = ARGV[1]
if op == 'acquire' then
  local n = tonumber(ARGV[2])
  local interval, tolerance, cap = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
    if cap > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', nowMs)
    local free = cap - redis.call('ZCARD', KEYS[2])
    if free < n then n = free end
    if n <= 0 then return { 0, -1 } end
  end
  local tat = now
  if interval > 0 then
    tat = tonumber(redis.call('HGET', KEYS[1], 't') or 0) or 0
    local restarted = false
    if tat < now then
      tat = now
      restarted = true
    end
    local k = math.floor((now + tolerance - tat) / interval)
    if k < n then n = k end
    if n <= 0 then
      -- Come back when the whole request fits (fewer calls from many waiting workers), but within
      -- half the burst time, so budget never goes unused while everyone waits.
      local one = tat + interval - tolerance - now
      local all = tat + tonumber(ARGV[2]) * interval - tolerance - now
      return { 0, math.ceil(math.max(one, math.min(all, tolerance / 2))) }
    end
    -- Rounded up: the stored TAT may only be later than the exact one (stricter, never looser).
    local newTat = math.ceil(tat + n * interval)
    redis.call('HSET', KEYS[1], 't', string.format('%.0f', newTat))
    if restarted then redis.call('HSET', KEYS[1], 'c', string.format('%.0f', now)) end
    redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil((newTat - now) / 1000)))
  end
  if cap > 0 then
    local expiry = nowMs + tonumber(ARGV[6])
    for i = 1, n do redis.call('ZADD', KEYS[2], expiry, ARGV[6 + i]) end
  end
  return { n, 0, now }
elseif op == 'release' then
  local units, interval = tonumber(ARGV[2]), tonumber(ARGV[3])
  if units > 0 and interval > 0 then
    local h = redis.call('HMGET', KEYS[1], 't', 'c')
    local tat, since = tonumber(h[1] or 0) or 0, tonumber(h[2] or 0) or 0
    if tat > now and tonumber(ARGV[4]) >= since then
      local back = tat - units * interval
      if back <= now then
        redis.call('DEL', KEYS[1])
      else
        redis.call('HSET', KEYS[1], 't', string.format('%.0f', math.ceil(back)))
        redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil((back - now) / 1000)))
      end
    end
  end
  if #ARGV >= 5 then redis.call('ZREM', KEYS[2], unpack(ARGV, 5)) end
  return 0
else
  local expiry = nowMs + tonumber(ARGV[2])
  local held = 0
  for i = 3, #ARGV do
    -- XX: a lease that already expired (its worker was presumed dead) is not brought back.
    if redis.call('ZSCORE', KEYS[2], ARGV[i]) then
      redis.call('ZADD', KEYS[2], 'XX', expiry, ARGV[i])
      held = held + 1
    end
  end
  return held
end
