/**
 * Which reads the client-side cache serves, and which replies it keeps.
 *
 * Only single-key read-only commands whose reply depends on nothing but the
 * key's value: a write to the key (which Redis reports by invalidation) is
 * the only thing that can change the reply. Excluded on purpose: the TTL
 * family and OBJECT (they change with time or server state, with no
 * invalidation), TYPE/RANDOMKEY/SCAN (keyless or of little value), and
 * multi-key reads (MGET, multi-key EXISTS): see docs/19-client-side-cache.md.
 */
const CACHEABLE = new Set([
  'get', 'strlen', 'getrange', 'exists',
  'hget', 'hgetall', 'hmget', 'hlen', 'hexists', 'hstrlen',
  'lrange', 'llen', 'lindex',
  'smembers', 'sismember', 'scard',
  'zrange', 'zscore', 'zcard', 'zrank',
]);

/** Most arguments of a cacheable call (ZRANGE … BYSCORE REV LIMIT o c WITHSCORES). */
const MAX_ARGS = 10;

/**
 * True when `name` (lower case) with `args` may be served from the cache:
 * a cacheable command, the key first, every argument a string, Buffer or
 * number (anything else — arrays to flatten, objects — goes to Redis).
 */
export function isCacheableCall(name: string, args: readonly unknown[]): boolean {
  if (!CACHEABLE.has(name) || args.length === 0 || args.length > MAX_ARGS) return false;
  if (name === 'exists' && args.length !== 1) return false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (typeof a !== 'string' && typeof a !== 'number' && !Buffer.isBuffer(a)) return false;
  }
  return true;
}

/**
 * True when a reply may be kept. A reply that may mean "no such key" (nil,
 * 0, an empty list/map, all-nil HMGET) is never kept: a key that does not
 * exist on a node is not tracked in any way that survives its slot moving —
 * after a reshard another node may create it without the old owner ever
 * invalidating, and hits never reach the network to learn of the move. A
 * key that exists is deleted from the old owner when its slot migrates,
 * which invalidates it.
 */
export function isCacheableReply(reply: unknown): boolean {
  if (reply === null || reply === undefined || reply === 0) return false;
  if (Array.isArray(reply)) return reply.length > 0 && reply.some((x) => x !== null);
  if (typeof reply === 'object' && !Buffer.isBuffer(reply)) return Object.keys(reply).length > 0;
  return true;
}

/** A copy of a cached reply for the caller (arrays and maps are not shared; Buffers are). */
export function copyReply(reply: unknown): unknown {
  if (Array.isArray(reply)) return reply.slice();
  if (reply !== null && typeof reply === 'object' && !Buffer.isBuffer(reply)) return { ...reply };
  return reply;
}

/** Estimated bytes of a reply (strings count 1 byte per UTF-16 unit: an estimate, not a measure). */
export function replyBytes(reply: unknown): number {
  if (typeof reply === 'string') return reply.length;
  if (Buffer.isBuffer(reply)) return reply.length;
  if (typeof reply === 'number') return 8;
  if (Array.isArray(reply)) {
    let n = 16;
    for (const x of reply) n += 8 + replyBytes(x);
    return n;
  }
  if (reply !== null && typeof reply === 'object') {
    let n = 16;
    for (const [k, v] of Object.entries(reply)) n += 16 + k.length + replyBytes(v);
    return n;
  }
  return 8;
}
