-- User index: remove or re-score entries a sweep verified, but only those
-- whose score is still the one the sweep read. A session added again in the
-- meantime (its writer re-scored it before writing the session) is left alone.
--
-- KEYS[1]  user index (sorted set)
-- ARGV     triples: id, score read by the sweep, new score or '-' to remove
--
-- Returns the number of entries removed.

local removed = 0
for i = 1, #ARGV, 3 do
  local current = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if current and tonumber(current) == tonumber(ARGV[i + 1]) then
    if ARGV[i + 2] == '-' then
      removed = removed + redis.call('ZREM', KEYS[1], ARGV[i])
    else
      redis.call('ZADD', KEYS[1], 'XX', ARGV[i + 2], ARGV[i])
    end
  end
end
return removed
