import { LRUCache } from 'lru-cache';
import type { ResolvedCacheOptions } from './options.js';

/** One cached reply and what it depends on. */
export interface CacheEntry {
  readonly value: unknown;
  /** The Redis key (index form, see indexKey()). */
  readonly key: string;
  readonly slot: number;
  /** Address of the master whose tracking covers this entry. */
  readonly node: string;
  readonly bytes: number;
}

/** `client.cacheStats()`: counters since the client was created, plus the current size. */
export interface CacheStats {
  /** Reads served from the cache (no network). */
  readonly hits: number;
  /** Cacheable reads sent to Redis (not cached, expired, or not cacheable at that moment). */
  readonly misses: number;
  /** Entries removed because their value may have changed (invalidation, flush, connection loss, slot move). */
  readonly invalidations: number;
  /** Entries removed to stay within `maxEntries`/`maxBytes`, or expired by `ttlMs`. */
  readonly evictions: number;
  /** Entries held now. */
  readonly entries: number;
  /** Estimated bytes held now (see `maxBytes`). */
  readonly bytes: number;
}

/** Fixed per-entry overhead counted in bytes (entry object, index sets, LRU links). */
export const ENTRY_OVERHEAD = 120;

/**
 * The bounded LRU (lru-cache) with byte accounting, and two indexes so an
 * invalidation of one Redis key, or a slot changing owner, removes exactly
 * the entries that depend on it.
 */
export class CacheStore {
  readonly #lru: LRUCache<string, CacheEntry>;
  readonly #byKey = new Map<string, Set<string>>();
  readonly #bySlot = new Map<number, Set<string>>();
  #bytes = 0;
  #invalidating = false;
  hits = 0;
  misses = 0;
  #invalidations = 0;
  #evictions = 0;

  constructor(o: ResolvedCacheOptions) {
    this.#lru = new LRUCache<string, CacheEntry>({
      max: o.maxEntries,
      ...(o.maxBytes === undefined ? {} : { maxSize: o.maxBytes, sizeCalculation: (e: CacheEntry) => e.bytes }),
      ...(o.ttlMs === undefined ? {} : { ttl: o.ttlMs }),
      dispose: (e, id, reason) => this.#removed(e, id, reason),
    });
  }

  get(id: string): CacheEntry | undefined {
    return this.#lru.get(id);
  }

  set(id: string, entry: CacheEntry): void {
    this.#lru.set(id, entry);
    // lru-cache refuses an entry larger than maxBytes (no dispose call): keep the indexes in step.
    if (this.#lru.peek(id) !== entry) return;
    this.#bytes += entry.bytes;
    add(this.#byKey, entry.key, id);
    add(this.#bySlot, entry.slot, id);
  }

  /** Removes every entry of Redis key `key`; returns how many. */
  invalidateKey(key: string): number {
    const ids = this.#byKey.get(key);
    return ids === undefined ? 0 : this.#invalidate([...ids]);
  }

  invalidateSlot(slot: number): number {
    const ids = this.#bySlot.get(slot);
    return ids === undefined ? 0 : this.#invalidate([...ids]);
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
      hits: this.hits, misses: this.misses, invalidations: this.#invalidations, evictions: this.#evictions,
      entries: this.#lru.size, bytes: this.#bytes,
    };
  }

  #invalidate(ids: string[]): number {
    this.#invalidating = true;
    let n = 0;
    try {
      for (const id of ids) if (this.#lru.delete(id)) n++;
    } finally {
      this.#invalidating = false;
    }
    return n;
  }

  #removed(e: CacheEntry, id: string, reason: LRUCache.DisposeReason): void {
    this.#bytes -= e.bytes;
    drop(this.#byKey, e.key, id);
    drop(this.#bySlot, e.slot, id);
    if (reason === 'evict' || reason === 'expire') this.#evictions++;
    else if (reason === 'delete' && this.#invalidating) this.#invalidations++;
  }
}

function add<K>(index: Map<K, Set<string>>, k: K, id: string): void {
  let s = index.get(k);
  if (s === undefined) index.set(k, (s = new Set()));
  s.add(id);
}

function drop<K>(index: Map<K, Set<string>>, k: K, id: string): void {
  const s = index.get(k);
  if (s === undefined) return;
  s.delete(id);
  if (s.size === 0) index.delete(k);
}
