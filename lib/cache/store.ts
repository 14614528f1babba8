import { LRUCache } from 'lru-cache';
import { copyReply } from './commands.js';
import type { ResolvedCacheOptions } from './options.js';

/** One cached reply and what it depends on. */
export class CacheEntry {
  readonly value: unknown;
  /** The Redis key (index form, see indexKey()). */
  readonly key: string;
  readonly slot: number;
  /** Address of the master whose tracking covers this entry. */
  readonly node: string;
  readonly bytes: number;
  /** Every hit of a string, number or Buffer gets this one settled promise (nothing to copy, nothing to allocate). */
  #resolved: Promise<unknown> | undefined;

  constructor(value: unknown, key: string, slot: number, node: string, bytes: number) {
    this.value = value;
    this.key = key;
    this.slot = slot;
    this.node = node;
    this.bytes = bytes;
  }

  /** The reply for one caller: arrays and maps are copied (callers may mutate them). */
  reply(): Promise<unknown> {
    if (this.#resolved !== undefined) return this.#resolved;
    const v = this.value;
    if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) return Promise.resolve(copyReply(v));
    return (this.#resolved = Promise.resolve(v));
  }
}

/** `client.cacheStats()`: counters since the client was created, plus the current size. */
export interface CacheStats {
  /** Reads served from the cache (no network). */
  readonly hits: number;
  /** Cacheable reads sent to Redis (not cached, expired, or not cacheable at that moment), shared reads included. */
  readonly misses: number;
  /**
   * Misses that sent nothing themselves: they waited for the same read
   * already on its way for another caller (see "Shared reads" in
   * docs/19-client-side-cache.md). `misses - sharedReads` reads made their own round trip.
   */
  readonly sharedReads: number;
  /** Entries removed because their value may have changed (invalidation, flush, connection loss, slot move). */
  readonly invalidations: number;
  /** Entries removed to stay within `maxEntries`/`maxBytes`, or expired by `ttlMs`. */
  readonly evictions: number;
  /** Entries held now. */
  readonly entries: number;
  /** Estimated bytes held now (see `maxBytes`). */
  readonly bytes: number;
}

/** Fixed per-entry overhead counted in bytes (entry object, index slots, LRU links). */
export const ENTRY_OVERHEAD = 120;

/**
 * Ids of entries grouped by something they depend on (a Redis key, a slot).
 * Nearly every group holds one id, so a group is that id itself until a
 * second one joins: no Set is allocated per cached key.
 */
class IdIndex<K> {
  readonly #groups = new Map<K, string | Set<string>>();

  add(k: K, id: string): void {
    const g = this.#groups.get(k);
    if (g === undefined) this.#groups.set(k, id);
    else if (typeof g !== 'string') g.add(id);
    else if (g !== id) this.#groups.set(k, new Set([g, id]));
  }

  drop(k: K, id: string): void {
    const g = this.#groups.get(k);
    if (g === undefined) return;
    if (typeof g === 'string') {
      if (g === id) this.#groups.delete(k);
    } else if (g.delete(id) && g.size === 0) {
      this.#groups.delete(k);
    }
  }

  /** The group's ids, copied (removing them changes the group). */
  ids(k: K): readonly string[] | undefined {
    const g = this.#groups.get(k);
    return g === undefined ? undefined : typeof g === 'string' ? [g] : [...g];
  }
}

/**
 * The bounded LRU (lru-cache) with byte accounting, and two indexes so an
 * invalidation of one Redis key, or a slot changing owner, removes exactly
 * the entries that depend on it. An entry whose id is its Redis key itself
 * (plain GET, see entryId() in client-cache.ts) is found by that key and
 * stays out of the key index: the commonest entry costs one map slot.
 */
export class CacheStore {
  readonly #lru: LRUCache<string, CacheEntry>;
  readonly #byKey = new IdIndex<string>();
  readonly #bySlot = new IdIndex<number>();
  readonly #maxBytes: number | undefined;
  #bytes = 0;
  #invalidating = false;
  hits = 0;
  misses = 0;
  sharedReads = 0;
  #invalidations = 0;
  #evictions = 0;

  constructor(o: ResolvedCacheOptions) {
    this.#maxBytes = o.maxBytes;
    this.#lru = new LRUCache<string, CacheEntry>({
      max: o.maxEntries,
      ...(o.maxBytes === undefined ? {} : { maxSize: o.maxBytes, sizeCalculation: (e: CacheEntry) => e.bytes }),
      ...(o.ttlMs === undefined ? {} : { ttl: o.ttlMs }),
      dispose: (e, id, reason) => this.#removed(e, id, reason),
    });
  }

  get(id: string): CacheEntry | undefined {
    return this.#lru.get(id, GET_OPTIONS);
  }

  set(id: string, entry: CacheEntry): void {
    // lru-cache refuses an entry larger than maxBytes (after dropping any
    // entry under that id): keep the indexes in step.
    if (this.#maxBytes !== undefined && entry.bytes > this.#maxBytes) {
      this.#lru.delete(id);
      return;
    }
    this.#lru.set(id, entry);
    this.#bytes += entry.bytes;
    if (id !== entry.key) this.#byKey.add(entry.key, id);
    this.#bySlot.add(entry.slot, id);
  }

  /** Removes every entry of Redis key `key`; returns how many. */
  invalidateKey(key: string): number {
    const ids = this.#byKey.ids(key);
    let n = ids === undefined ? 0 : this.#invalidate(ids);
    // The entry stored under the key itself. A key starting with "\x01"
    // looks like another call's id (and is never used as one): skip it.
    if (key.charCodeAt(0) !== 1) n += this.#invalidate1(key);
    return n;
  }

  invalidateSlot(slot: number): number {
    const ids = this.#bySlot.ids(slot);
    return ids === undefined ? 0 : this.#invalidate(ids);
  }

  /** Removes every entry served under `node`'s tracking. */
  invalidateNode(node: string): number {
    const ids: string[] = [];
    for (const [id, e] of this.#lru.entries()) if (e.node === node) ids.push(id);
    return this.#invalidate(ids);
  }

  clear(): number {
    return this.#invalidate([...this.#lru.keys()]);
  }

  stats(): CacheStats {
    return {
      hits: this.hits, misses: this.misses, sharedReads: this.sharedReads, invalidations: this.#invalidations, evictions: this.#evictions,
      entries: this.#lru.size, bytes: this.#bytes,
    };
  }

  #invalidate(ids: readonly string[]): number {
    let n = 0;
    for (const id of ids) n += this.#invalidate1(id);
    return n;
  }

  #invalidate1(id: string): number {
    this.#invalidating = true;
    try {
      return this.#lru.delete(id) ? 1 : 0;
    } finally {
      this.#invalidating = false;
    }
  }

  #removed(e: CacheEntry, id: string, reason: LRUCache.DisposeReason): void {
    this.#bytes -= e.bytes;
    if (id !== e.key) this.#byKey.drop(e.key, id);
    this.#bySlot.drop(e.slot, id);
    if (reason === 'evict' || reason === 'expire') this.#evictions++;
    else if (reason === 'delete' && this.#invalidating) this.#invalidations++;
  }
}

/**
 * Passed to every lookup: lru-cache otherwise allocates an options object
 * per get() (it writes `status` into it, so it cannot be frozen).
 */
const GET_OPTIONS: LRUCache.GetOptions<string, CacheEntry, unknown> = {};
