-- Renews the leases of several grants in one call (the watchdog batches all
-- grants of one slot), each only while its owner still holds it.
-- KEYS[i] key of grant i: a hash {owner, token} ('h'), a reentrant hash with one field
--         hold:<id> per hold ('r': owner = the hold id; the lease is never shortened, other
--         holds may need it longer) or a holders zset ('z'), all in one slot
-- ARGV[3i-2] kind 'h' | 'r' | 'z'   ARGV[3i-1] owner   ARGV[3i] new lease ms
-- returns a list: 1 renewed | 0 lost, per key
local t = redis.call('TIME')
local nowMs = math.floor((tonumber(t[1]) * 1000000 + tonumber(t[2])) / 1000)
local out = {}
for i = 1, #KEYS do
  local key, kind, owner, lease = KEYS[i], ARGV[3 * i - 2], ARGV[3 * i - 1], tonumber(ARGV[3 * i])
  local ok = 0
  if kind == 'h' then
    if redis.call('HGET', key, 'owner') == owner then
      redis.call('PEXPIRE', key, lease)
      ok = 1
    end
  elseif kind == 'r' then
    if redis.call('HEXISTS', key, 'hold:' .. owner) == 1 then
      if redis.call('PTTL', key) < lease then redis.call('PEXPIRE', key, lease) end
      ok = 1
    end
  else
    local score = redis.call('ZSCORE', key, owner)
    if score and tonumber(score) > nowMs then
      redis.call('ZADD', key, 'XX', nowMs + lease, owner)
      if redis.call('PTTL', key) < lease then redis.call('PEXPIRE', key, lease) end
      ok = 1
    end
  end
  out[i] = ok
end
return out
