-- Session write: create, replace or patch one session hash, atomically with
-- its expiry, version and owner, and never over a tombstone.
--
-- KEYS[1]  session hash            <prefix>{<id>}
-- KEYS[2]  tombstone of that id    <prefix>{<id>}:destroyed   (same slot)
-- ARGV[1]  mode: 'create' | 'replace' | 'patch' | 'upsert'
--            create  - only when neither the hash nor a tombstone exists
--            replace - only when the hash exists; every attribute not given is removed
--            patch   - only when the hash exists; given attributes set, listed ones removed
--            upsert  - create when absent (tombstone still wins), else replace
-- ARGV[2]  idle timeout in ms ('' keeps the stored one; required for create)
-- ARGV[3]  absolute lifetime in ms from creation ('' = none); read on create only
-- ARGV[4]  owner: '' keeps it, '-' clears it, '=<userId>' sets it
-- ARGV[5]  expected version ('' = any)
-- ARGV[6]  N, the number of attribute field/value pairs that follow
-- ARGV[7 .. 6+2N]   field, value pairs (fields already carry the 'a:' prefix)
-- ARGV[7+2N ..]     fields to remove (patch only)
--
-- Returns {status, version, expiresAtMs, previousOwner}
--   status: 'OK' | 'MISSING' | 'EXISTS' | 'DESTROYED' | 'CONFLICT' | 'EXPIRED'
--   previousOwner: '' when the session had none.
-- Times come from the server clock (TIME), so app instances never disagree.

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local mode = ARGV[1]
local exists = redis.call('EXISTS', KEYS[1]) == 1

if mode == 'upsert' then
  if exists then mode = 'replace' else mode = 'create' end
end

local previous = ''
if mode == 'create' then
  if exists then return {'EXISTS', 0, 0, ''} end
  if redis.call('EXISTS', KEYS[2]) == 1 then return {'DESTROYED', 0, 0, ''} end
  redis.call('HSET', KEYS[1], 'm:c', now, 'm:i', ARGV[2])
  if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'm:a', now + tonumber(ARGV[3])) end
else
  if not exists then return {'MISSING', 0, 0, ''} end
  if ARGV[5] ~= '' and redis.call('HGET', KEYS[1], 'm:v') ~= ARGV[5] then
    return {'CONFLICT', tonumber(redis.call('HGET', KEYS[1], 'm:v')), 0, ''}
  end
  previous = redis.call('HGET', KEYS[1], 'm:u') or ''
  if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'm:i', ARGV[2]) end
  if mode == 'replace' then
    local fields = redis.call('HKEYS', KEYS[1])
    local stale = {}
    for _, f in ipairs(fields) do
      if string.sub(f, 1, 2) == 'a:' then stale[#stale + 1] = f end
    end
    -- HDEL takes many fields, but unpack() is bounded by the Lua stack: chunk it.
    for i = 1, #stale, 1000 do
      redis.call('HDEL', KEYS[1], unpack(stale, i, math.min(i + 999, #stale)))
    end
  end
end

local n = tonumber(ARGV[6])
for i = 7, 6 + 2 * n, 2000 do
  redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 1999, 6 + 2 * n)))
end
if mode == 'patch' and #ARGV > 6 + 2 * n then
  for i = 7 + 2 * n, #ARGV, 1000 do
    redis.call('HDEL', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
  end
end

local owner = ARGV[4]
if owner == '-' then
  redis.call('HDEL', KEYS[1], 'm:u')
elseif owner ~= '' then
  redis.call('HSET', KEYS[1], 'm:u', string.sub(owner, 2))
end

local version = redis.call('HINCRBY', KEYS[1], 'm:v', 1)
redis.call('HSET', KEYS[1], 'm:l', now)

local ttl = tonumber(redis.call('HGET', KEYS[1], 'm:i'))
local deadline = redis.call('HGET', KEYS[1], 'm:a')
if deadline then ttl = math.min(ttl, tonumber(deadline) - now) end
if ttl <= 0 then
  redis.call('DEL', KEYS[1])
  return {'EXPIRED', version, now, previous}
end
redis.call('PEXPIRE', KEYS[1], ttl)
return {'OK', version, now + ttl, previous}
