-- Session write: create, replace or patch one session hash, atomically with
-- its expiry, version and owner, and never over a tombstone.
--
-- KEYS[1]  session hash            <prefix>{<id>}
-- KEYS[2]  tombstone of that id    <prefix>{<id>}:destroyed   (same slot)
-- ARGV[1]  now, epoch ms (the application's clock)
-- ARGV[2]  mode: 'create' | 'replace' | 'patch' | 'upsert'
--            create  - only when neither the hash nor a tombstone exists
--            replace - only when the hash exists; every attribute not given is removed
--            patch   - only when the hash exists; given attributes set, listed ones removed
--            upsert  - create when absent (tombstone still wins), else replace
-- ARGV[3]  idle timeout in ms ('' keeps the stored one; required for create)
-- ARGV[4]  absolute lifetime in ms from creation ('' = none); read on create only
-- ARGV[5]  owner: '' keeps it, '-' clears it, '=<userId>' sets it
-- ARGV[6]  expected version ('' = any)
-- ARGV[7]  N, the number of attribute field/value pairs that follow
-- ARGV[8 .. 7+2N]   field, value pairs (fields already carry the 'a:' prefix)
-- ARGV[8+2N ..]     fields to remove (patch only)
--
-- Returns {status, version, expiresAtMs, previousOwner}
--   status: 'OK' | 'MISSING' | 'EXISTS' | 'DESTROYED' | 'CONFLICT' | 'EXPIRED'
--   previousOwner: '' when the session had none.
-- Few redis.call()s on purpose: inside a script each one costs more than
-- the work it does (hence no TIME either: the caller sends its clock).

local now = tonumber(ARGV[1])
local mode = ARGV[2]
-- m:v (version) exists in every session hash: it doubles as the existence test.
local meta = redis.call('HMGET', KEYS[1], 'm:v', 'm:u', 'm:i', 'm:a', 'm:c')
local exists = meta[1] ~= false

if mode == 'upsert' then
  if exists then mode = 'replace' else mode = 'create' end
end

local version, previous, idle, deadline, created
if mode == 'create' then
  if exists then return {'EXISTS', 0, 0, ''} end
  if redis.call('EXISTS', KEYS[2]) == 1 then return {'DESTROYED', 0, 0, ''} end
  version, previous, idle, created = 1, '', ARGV[3], now
  if ARGV[4] ~= '' then deadline = now + tonumber(ARGV[4]) end
else
  if not exists then return {'MISSING', 0, 0, ''} end
  if ARGV[6] ~= '' and meta[1] ~= ARGV[6] then return {'CONFLICT', tonumber(meta[1]), 0, ''} end
  version, previous, idle, deadline, created = tonumber(meta[1]) + 1, meta[2] or '', meta[3], meta[4], meta[5]
  if ARGV[3] ~= '' then idle = ARGV[3] end
  if mode == 'replace' then
    -- Rewriting the hash whole is cheaper than finding the attributes to drop.
    redis.call('DEL', KEYS[1])
  end
end

local owner = previous
if ARGV[5] == '-' then
  owner = ''
  if mode == 'patch' then redis.call('HDEL', KEYS[1], 'm:u') end
elseif ARGV[5] ~= '' then
  owner = string.sub(ARGV[5], 2)
end

local ttl = tonumber(idle)
if deadline then ttl = math.min(ttl, tonumber(deadline) - now) end
if ttl <= 0 then
  redis.call('DEL', KEYS[1])
  return {'EXPIRED', version, now, previous}
end

local n = tonumber(ARGV[7])
if mode == 'patch' and #ARGV > 7 + 2 * n then
  for i = 8 + 2 * n, #ARGV, 1000 do
    redis.call('HDEL', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
  end
end

local fields = {'m:v', version, 'm:w', now, 'm:i', idle}
if mode ~= 'patch' then
  fields[#fields + 1] = 'm:c'
  fields[#fields + 1] = created
  if deadline then
    fields[#fields + 1] = 'm:a'
    fields[#fields + 1] = deadline
  end
end
if owner ~= '' and (owner ~= previous or mode ~= 'patch') then
  fields[#fields + 1] = 'm:u'
  fields[#fields + 1] = owner
end
-- unpack() is bounded by the Lua stack: very large sessions go in chunks.
if n <= 2000 then
  for i = 8, 7 + 2 * n do fields[#fields + 1] = ARGV[i] end
  redis.call('HSET', KEYS[1], unpack(fields))
else
  redis.call('HSET', KEYS[1], unpack(fields))
  for i = 8, 7 + 2 * n, 2000 do
    redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 1999, 7 + 2 * n)))
  end
end
redis.call('PEXPIRE', KEYS[1], ttl)
return {'OK', version, now + ttl, previous}
