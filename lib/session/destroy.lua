-- Session destroy: delete the hash and leave a tombstone, so a save already
-- in flight cannot create the id again.
--
-- KEYS[1]  session hash   <prefix>{<id>}
-- KEYS[2]  tombstone      <prefix>{<id>}:destroyed   (same slot)
-- ARGV[1]  tombstone lifetime in ms
-- ARGV[2]  required owner ('' = any): destroy only a session owned by this user
-- ARGV[3]  expected version ('' = any)
--
-- Metadata field 'm' = "version|created|updated|idle|deadline|owner" (see write.lua).
-- Returns {status, previousOwner}
--   status: 'DESTROYED' (it existed) | 'MISSING' | 'MISMATCH' | 'CONFLICT'
--   With a required owner or version nothing is written unless they match.

local meta = redis.call('HGET', KEYS[1], 'm')
local version, owner = '', ''
if meta then version, owner = string.match(meta, '^(%d+)|%d*|%d*|%d+|%d*|(.*)$') end
if ARGV[2] ~= '' or ARGV[3] ~= '' then
  if not meta then return {'MISSING', ''} end
  if ARGV[2] ~= '' and owner ~= ARGV[2] then return {'MISMATCH', owner} end
  if ARGV[3] ~= '' and version ~= ARGV[3] then return {'CONFLICT', owner} end
end
local existed = redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
if existed == 1 then return {'DESTROYED', owner} end
return {'MISSING', ''}
