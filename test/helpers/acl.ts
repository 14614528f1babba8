/**
 * The ACL rules each part of slotwise needs: the single source for
 * docs/13-security.md and for test/integration/security/acl.test.ts, which
 * runs each part as a user holding exactly these rules (plus `connection`).
 * Key and channel patterns use each helper's default prefix.
 */
export const ACL_RULES = {
  /** Every ClusterClient connection: login, name, health probes, replica mode, redirects, topology discovery. */
  connection: ['+hello', '+auth', '+client|setname', '+ping', '+readonly', '+readwrite', '+asking', '+cluster|shards', '+cluster|slots', '+cluster|info'],
  /** Plain commands on the application's keys (here `app:*`): reads, writes, cross-slot splits, pipelines, SCAN, DBSIZE. */
  router: ['~app:*', '+@read', '+@write', '-@dangerous', '+multi', '+exec', '+watch', '+unwatch', '+discard', '+cluster|nodes'],
  /** Mutex, ReadWriteLock, Semaphore, CountDownLatch (Lua scripts, wake-ups over sharded pub/sub). */
  locks: ['~slotwise:*', '&slotwise:*', '+evalsha', '+eval', '+evalsha_ro', '+eval_ro', '+script|load', '+ssubscribe', '+sunsubscribe', '+spublish', '+get', '+set', '+del', '+exists', '+pexpire', '+pttl', '+incr', '+decr', '+time', '+zadd', '+zrem', '+zrange', '+zscore', '+zrank', '+zcard', '+zremrangebyscore', '+hset', '+hget', '+hmget', '+hdel'],
  /** WorkQueue producers and workers (streams, consumer groups, scripts, wake-ups). */
  queues: ['~q:*', '&q:*', '+evalsha', '+eval', '+evalsha_ro', '+eval_ro', '+script|load', '+ssubscribe', '+sunsubscribe', '+spublish', '+@stream', '-xsetid', '+del', '+exists', '+pexpire', '+pttl', '+time', '+zadd', '+zrem', '+zrange', '+zrangebyscore', '+zscore', '+zcard', '+zremrangebyscore', '+zpopmin', '+hset', '+hget', '+hgetall', '+hmget', '+hdel', '+hincrby', '+get', '+set', '+incr'],
  /**
   * Classic, pattern and sharded pub/sub on `app:*` channels; keyspace notifications need `config|get` to check they are on.
   * PSUBSCRIBE patterns must appear literally (`&app:pat*`): Redis compares a pattern with the user's channel rules as text.
   */
  pubsub: ['&app:*', '&app:pat*', '&__keyspace@0__:app:*', '&__keyevent@0__:*', '+subscribe', '+unsubscribe', '+psubscribe', '+punsubscribe', '+ssubscribe', '+sunsubscribe', '+publish', '+spublish', '+config|get'],
  /** SessionStore (scripts, per-user index, listing across masters) and its expiry events. */
  sessions: ['~sess:*', '&__keyspace@0__:sess:{*}', '+evalsha', '+eval', '+evalsha_ro', '+eval_ro', '+script|load', '+scan', '+get', '+set', '+del', '+exists', '+pexpire', '+pttl', '+time', '+hset', '+hget', '+hgetall', '+hmget', '+hkeys', '+hdel', '+hincrby', '+zadd', '+zrem', '+zrange', '+zrangebyscore', '+zscore', '+zcard', '+zremrangebyscore', '+psubscribe', '+punsubscribe', '+subscribe', '+unsubscribe', '+config|get'],
} as const;

export type AclPart = Exclude<keyof typeof ACL_RULES, 'connection'>;

/** `ACL SETUSER` arguments for a user holding exactly the rules of `part` (plus `connection`). */
export function aclUser(name: string, password: string, part: AclPart): string[] {
  return [name, 'reset', 'on', `>${password}`, ...ACL_RULES[part], ...ACL_RULES.connection];
}
