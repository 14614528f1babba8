-- Session write: create, replace or patch one session hash, atomically with
-- its expiry, version and owner, and never over a tombstone.
--
-- KEYS[1]  session hash            <prefix>{<id>}
-- KEYS[2]  tombstone of that id    <prefix>{<id>}:destroyed   (same slot)
-- ARGV[1]  now, epoch ms (the application's clock), as an integer string (stored as sent)
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
-- Metadata is ONE field, 'm' = "version|created|updated|idle|deadline|owner"
-- (deadline '' when none, owner last so it may contain '|').
-- Field 'n' = "version:updated:count" is the number of attribute fields as
-- of that write, written by create and replace. A replace whose 'n' is
-- current (same version and updated time as 'm') overwrites in place and deletes only fields it finds
-- stale, instead of deleting the whole hash first; a patch, which does not
-- count, leaves 'n' behind the version, so the next replace trusts it no more.
--
-- Expiry: min(idle, deadline - now) from now, set only when the current one
-- is not already within 1/1000 of that below it (see touch.lua).
--
-- Returns a status: 'OK' | 'MISSING' | 'EXISTS' | 'DESTROYED' | 'EXPIRED' |
--   'CONFLICT:<current version>'
-- Few redis.call()s on purpose: inside a script each one costs more than
-- the work it does (hence no TIME either: the caller sends its clock), and
-- the reply is one short string, the cheapest for the client to read.

local now = tonumber(ARGV[1])
local mode = ARGV[2]
local got = redis.call('HMGET', KEYS[1], 'm', 'n')
local meta = got[1]

if mode == 'upsert' then
  if meta then mode = 'replace' else mode = 'create' end
end

-- Metadata is rebuilt by concatenation (one allocation; cheaper than
-- string.format): the stored numbers are kept as the strings they are.
local version, created, idle, deadline, previous
local known -- attribute count before this write, when 'n' is current
local current = -2 -- the hash's PTTL before this write; -2 when it is new or rewritten whole
if mode == 'create' then
  if meta then return 'EXISTS' end
  if redis.call('EXISTS', KEYS[2]) == 1 then return 'DESTROYED' end
  version, created, idle, previous, deadline = '1', ARGV[1], ARGV[3], '', ''
  if ARGV[4] ~= '' then deadline = string.format('%.0f', now + tonumber(ARGV[4])) end
else
  if not meta then return 'MISSING' end
  local v, c, w, i, a, u = string.match(meta, '^(%d+)|(%d*)|(%d*)|(%d+)|(%d*)|(.*)$')
  if ARGV[6] ~= '' and v ~= ARGV[6] then return 'CONFLICT:' .. v end
  version, created, idle, previous, deadline = tostring(tonumber(v) + 1), c, i, u, a
  if ARGV[3] ~= '' then idle = ARGV[3] end
  current = redis.call('PTTL', KEYS[1])
  if mode == 'replace' then
    -- The updated time too: a copy (regenerate) restarts at version 1 with a new one.
    local nv, nw, nc = string.match(got[2] or '', '^(%d+):(%d+):(%d+)$')
    if nv == v and nw == w then
      known = tonumber(nc)
    else
      -- Unknown attribute count: rewriting the hash whole is the one safe replace.
      redis.call('DEL', KEYS[1])
      current = -2
    end
  end
end

local owner = previous
if ARGV[5] == '-' then owner = '' elseif ARGV[5] ~= '' then owner = string.sub(ARGV[5], 2) end

local ttl = tonumber(idle)
if deadline ~= '' then ttl = math.min(ttl, tonumber(deadline) - now) end
if ttl <= 0 then
  redis.call('DEL', KEYS[1])
  return 'EXPIRED'
end

local n = tonumber(ARGV[7])
if mode == 'patch' and #ARGV > 7 + 2 * n then
  for i = 8 + 2 * n, #ARGV, 1000 do
    redis.call('HDEL', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
  end
end

local packed = version .. '|' .. created .. '|' .. ARGV[1] .. '|' .. idle .. '|' .. deadline .. '|' .. owner
local added
-- unpack() is bounded by the Lua stack: very large sessions go in chunks.
if mode == 'patch' then
  if n <= 2000 then
    redis.call('HSET', KEYS[1], 'm', packed, unpack(ARGV, 8, 7 + 2 * n))
  else
    redis.call('HSET', KEYS[1], 'm', packed)
    for i = 8, 7 + 2 * n, 2000 do redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 1999, 7 + 2 * n))) end
  end
else
  local count = version .. ':' .. ARGV[1] .. ':' .. ARGV[7]
  if n <= 2000 then
    added = redis.call('HSET', KEYS[1], 'm', packed, 'n', count, unpack(ARGV, 8, 7 + 2 * n))
  else
    added = redis.call('HSET', KEYS[1], 'm', packed, 'n', count)
    for i = 8, 7 + 2 * n, 2000 do added = added + redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 1999, 7 + 2 * n))) end
  end
  -- Replaced in place: fields before + fields added - fields given = stale attributes left over.
  if known and known + added > n then
    local keep = { m = true, n = true }
    for i = 8, 7 + 2 * n, 2 do keep[ARGV[i]] = true end
    local stale = {}
    for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
      if not keep[f] then stale[#stale + 1] = f end
    end
    for i = 1, #stale, 1000 do redis.call('HDEL', KEYS[1], unpack(stale, i, math.min(i + 999, #stale))) end
  end
end
-- The expiry moves only when it would move by more than 1/1000 of the time
-- to live (see touch.lua): then HSET is the script's one write, which a
-- replica receives without a MULTI/EXEC around it.
if current < ttl - math.floor(ttl / 1000) or current > ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 'OK'
