--[[ reclaim: take over deliveries of ONE ready stream (one priority level; the caller loops over the
levels) whose worker stopped renewing them (died, hung, or released them on close) for longer than
the visibility timeout. Each takeover counts as a used delivery; a job that used them all goes to the
dead-letter stream (or, with removeOnDead: true, is deleted).
KEYS[1] ready stream (one priority level's)   KEYS[2] dead-letter stream   KEYS[3] events stream (optional)
ARGV[1] group   ARGV[2] this consumer   ARGV[3] min idle ms (visibility timeout)   ARGV[4] most entries
ARGV[5] job key prefix   ARGV[6] max deliveries   ARGV[7] '1' = keep no dead letter (removeOnDead: true)
ARGV[8] events stream MAXLEN (~); 0 or absent = no event
Events: 'stalled' per job taken over, 'dead' per job that used its deliveries (also when no dead
letter is kept).
Returns: { {entry id, job id, payload, attempts}, … } to run now; stale entries are acknowledged ]]
local claimed = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], '0-0', 'COUNT', tonumber(ARGV[4]))
local out = {}
local events = KEYS[3] and tonumber(ARGV[8] or '0') > 0
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, entry in ipairs(claimed[2]) do
  local eid, fields = entry[1], entry[2]
  local id = nil
  for i = 1, #fields, 2 do if fields[i] == 'id' then id = fields[i + 1] end end
  local jk = ARGV[5] .. (id or '')
  local h = redis.call('HMGET', jk, 's', 'e', 'a', 'd')
  if id == nil or h[1] == false or h[1] == 'completed' or h[1] == 'dead' or h[2] ~= eid then
    redis.call('XACK', KEYS[1], ARGV[1], eid)
    redis.call('XDEL', KEYS[1], eid)
  else
    local attempts = tonumber(h[3]) + 1
    if attempts >= tonumber(ARGV[6]) then
      local err = 'stalled: its worker stopped (crashed, hung or exceeded the visibility timeout) ' .. attempts .. ' times'
      redis.call('XACK', KEYS[1], ARGV[1], eid)
      redis.call('XDEL', KEYS[1], eid)
      if ARGV[7] == '1' then
        redis.call('DEL', jk)
      else
        redis.call('XADD', KEYS[2], '*', 'id', id, 'd', h[4], 'err', err, 'a', attempts, 'at', now)
        redis.call('HSET', jk, 's', 'dead', 'a', attempts, 'err', err, 'e', '')
      end
      if events then redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], '*', 'ev', 'dead', 'id', id, 'err', err, 'a', attempts) end
    else
      redis.call('HSET', jk, 'a', attempts)
      if events then redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], '*', 'ev', 'stalled', 'id', id, 'a', attempts) end
      out[#out + 1] = { eid, id, h[4], attempts }
    end
  end
end
-- Entries deleted while pending (7.0+: third element) can never be delivered again.
if claimed[3] ~= nil then
  for _, eid in ipairs(claimed[3]) do redis.call('XACK', KEYS[1], ARGV[1], eid) end
end
return out
