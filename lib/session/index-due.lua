-- User index: the sessions whose recorded expiry has passed, i.e. the
-- entries a sweep must check.
--
-- KEYS[1]  user index (sorted set: member = session id, score = expected expiry, epoch ms)
-- ARGV[1]  now, epoch ms (the application's clock, which also wrote the scores)
-- ARGV[2]  most entries to return
--
-- Returns {id1, score1, id2, score2, ...}

return redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[2]), 'WITHSCORES')
