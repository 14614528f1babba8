-- User index: the sessions whose recorded expiry has passed (by the server's
-- clock), i.e. the entries a sweep must check.
--
-- KEYS[1]  user index (sorted set: member = session id, score = expected expiry, epoch ms)
-- ARGV[1]  most entries to return
--
-- Returns {id1, score1, id2, score2, ...}

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGE', KEYS[1], '-inf', now, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[1]), 'WITHSCORES')
