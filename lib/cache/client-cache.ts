import { Command, type Redis } from 'ioredis';
import { SLOT_COUNT, slotOf } from '../core/slots.js';
import type { NodeHandle } from '../node/node-handle.js';
import type { ResolvedOptions } from '../options.js';
import { commandInfo, keyIndexes } from '../router/commands.js';
import type { ExecOptions, RequestSequencer } from '../router/request.js';
import { copyReply, isCacheableCall, isCacheableReply, replyBytes } from './commands.js';
import type { ResolvedCacheOptions } from './options.js';
import { CacheEntry, CacheStore, ENTRY_OVERHEAD, type CacheStats } from './store.js';
import { NodeTracker, type TrackerEvents } from './tracking.js';

/** The part of a topology snapshot the cache reads: who serves a slot. */
export interface SlotOwners {
  shardOf(slot: number): { readonly master: { readonly address: string } } | undefined;
}

/** The part of a NodeTracker the cache uses (a unit test drives a stand-in). */
export interface Tracker {
  readonly address: string;
  readonly epoch: number;
  readonly on: boolean;
  prepare(data: Redis, repoint: (id: number) => Promise<unknown>): Promise<void>;
  reset(): void;
  close(): Promise<void>;
}

/** What the cache needs of the client core. */
export interface CacheDeps {
  /** The current map. */
  current(): SlotOwners | undefined;
  /** Runs a command the normal way (split, routed, retried). */
  run(name: string, args: readonly unknown[], opts: ExecOptions, seq: RequestSequencer | undefined): Promise<unknown>;
  /** Builds the tracker of one node (default: NodeTracker, real connections). */
  createTracker?(node: NodeHandle, events: TrackerEvents): Tracker;
}

/** Reads in flight for one Redis key: an invalidation bumps `gen`, so their replies are not kept. */
interface InFlight {
  count: number;
  gen: number;
}

/**
 * Client-side cache for a cluster (internal; see docs/19-client-side-cache.md).
 * Sits in front of the router for commands without a pinned node: serves
 * cacheable single-key reads from a bounded LRU and keeps a read's reply
 * only when nothing that could have changed it was seen between sending
 * it and its reply:
 * - an invalidation of its key (from any node, or a write of this client),
 * - a flush (a null invalidation) or a keyless flush sent by this client,
 * - its slot changing owner in the map, or a MOVED/ASK for its slot,
 * - the tracking of its master being lost or replaced (connection or
 *   subscriber loss, reconnect).
 * The same events remove existing entries.
 */
export class ClientCache {
  readonly #store: CacheStore;
  readonly #deps: CacheDeps;
  readonly #options: ResolvedOptions;
  readonly #trackers = new Map<string, Tracker>();
  readonly #inflight = new Map<string, InFlight>();
  /** Per entry id: the tracked read on its way, which later readers may share while it stays valid. */
  readonly #joinable = new Map<string, { readonly reply: Promise<unknown>; valid(): boolean }>();
  /** Per slot: bumped when the slot's owner changes or a redirect for it is seen. */
  readonly #slotGen = new Uint32Array(SLOT_COUNT);
  /** Bumped on a flush of any node (entries of every node go). */
  #flushGen = 0;
  #closed = false;

  constructor(options: ResolvedOptions, cache: ResolvedCacheOptions, deps: CacheDeps) {
    this.#options = options;
    this.#store = new CacheStore(cache);
    this.#deps = deps;
  }

  stats(): CacheStats {
    return this.#store.stats();
  }

  /** The router's entry point for every command not pinned to a node. */
  execute(name: string, args: readonly unknown[], opts: ExecOptions, seq: RequestSequencer | undefined): Promise<unknown> {
    const lower = name.toLowerCase();
    if (seq === undefined && isCacheableCall(lower, args)) return this.#read(lower, args, opts);
    const info = commandInfo(lower);
    if (info === undefined || info.readOnly) return this.#deps.run(name, args, opts, seq);
    // A write of this client: its keys' entries go now, and again once it is
    // answered (a read answered in between may hold the old value).
    this.#wrote(lower, args);
    const p = this.#deps.run(name, args, opts, seq);
    const again = () => this.#wrote(lower, args);
    p.then(again, again);
    return p;
  }

  #read(lower: string, args: readonly unknown[], opts: ExecOptions): Promise<unknown> {
    const id = entryId(lower, args, opts.buffer === true);
    const hit = this.#store.get(id);
    if (hit !== undefined) {
      this.#store.hits++;
      return hit.reply();
    }
    this.#store.misses++;
    // The same read already on its way, with nothing seen since that could
    // change its reply: share it. Its reply is as fresh as an entry cached
    // from it would be, and a hot key just invalidated costs one round trip,
    // not one per reader (64 readers of a hot key would otherwise all miss).
    const joined = this.#joinable.get(id);
    if (joined !== undefined && joined.valid() && opts.signal === undefined && opts.timeoutMs === undefined) {
      this.#store.sharedReads++;
      return joined.reply.then(copyReply);
    }
    const run = this.#deps.run(lower, args, opts, undefined);
    // Replica reads are never cached: only masters' connections are tracked.
    if (this.#closed || this.#options.readFrom !== 'master') return run;
    const key = args[0] as string | Buffer | number;
    const slot = slotOf(key);
    const master = this.#deps.current()?.shardOf(slot)?.master;
    const tracker = master === undefined ? undefined : this.#trackers.get(master.address);
    if (tracker === undefined || !tracker.on) return run;
    const k = indexKey(key);
    let f = this.#inflight.get(k);
    if (f === undefined) this.#inflight.set(k, (f = { count: 0, gen: 0 }));
    f.count++;
    const gen = f.gen;
    const epoch = tracker.epoch;
    const slotGen = this.#slotGen[slot];
    const flushGen = this.#flushGen;
    const valid = (): boolean => f.gen === gen && tracker.on && tracker.epoch === epoch && this.#slotGen[slot] === slotGen && this.#flushGen === flushGen;
    const done = (): boolean => {
      const stillValid = valid();
      if (--f.count === 0) this.#inflight.delete(k);
      if (this.#joinable.get(id)?.reply === run) this.#joinable.delete(id);
      return stillValid;
    };
    // Only a read without its own deadline or signal may be shared: a shorter
    // timeout of the first reader must not fail the others.
    if (opts.signal === undefined && opts.timeoutMs === undefined) this.#joinable.set(id, { reply: run, valid });
    return run.then((value) => {
      if (done() && isCacheableReply(value)) {
        this.#store.set(id, new CacheEntry(copyReply(value), k, slot, tracker.address, ENTRY_OVERHEAD + id.length + replyBytes(value)));
      }
      return value;
    }, (err: unknown) => {
      done();
      throw err;
    });
  }

  #wrote(lower: string, args: readonly unknown[]): void {
    if (lower === 'flushall' || lower === 'flushdb') {
      this.#flushAll();
      return;
    }
    let flat: readonly unknown[];
    try {
      flat = args.every(isPrimitive) ? args : new Command(lower, args as (string | Buffer | number)[]).args;
    } catch {
      return; // The router rejects such arguments; nothing was written.
    }
    for (const i of keyIndexes(lower, flat)) {
      const key = flat[i];
      if (isPrimitive(key)) this.#invalidateKey(indexKey(key as string | Buffer | number));
    }
  }

  #invalidateKey(k: string): void {
    const f = this.#inflight.get(k);
    if (f !== undefined) f.gen++;
    this.#store.invalidateKey(k);
  }

  #flushAll(): void {
    this.#flushGen++;
    this.#store.clear();
  }

  // ---- events from the core ----

  /**
   * A new data connection to `node`, before it carries any command: tracking
   * on (through the node's tracker). Only masters are tracked.
   */
  prepare(node: NodeHandle, data: Redis): Promise<void> {
    if (this.#closed) return Promise.resolve();
    let t = this.#trackers.get(node.address);
    if (t === undefined) {
      const events: TrackerEvents = {
        onInvalidate: (_address, keys) => {
          if (keys === null) this.#flushAll();
          else for (const key of keys) this.#invalidateKey(key.toString());
        },
        onReset: (address) => this.#store.invalidateNode(address),
      };
      t = this.#deps.createTracker?.(node, events) ?? new NodeTracker(node.address, node.host, node.port, this.#options, events);
      this.#trackers.set(node.address, t);
    }
    return t.prepare(data, (id) => node.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(id)));
  }

  /** The data connection to `address` was lost: its tracking (server side) is gone. */
  connectionLost(address: string): void {
    this.#trackers.get(address)?.reset();
  }

  /** A MOVED/ASK for `slot`: entries of the slot may no longer be tracked by their owner. */
  redirected(slot: number): void {
    this.#dropSlot(slot);
  }

  /** A new map: slots whose master changed lose their entries; nodes that left lose their trackers. */
  topologyChanged(prev: SlotOwners | undefined, next: SlotOwners, removed: readonly string[]): void {
    for (const address of removed) {
      const t = this.#trackers.get(address);
      if (t === undefined) continue;
      this.#trackers.delete(address);
      this.#store.invalidateNode(address);
      void t.close();
    }
    if (prev === undefined) return;
    for (let s = 0; s < SLOT_COUNT; s++) {
      if (prev.shardOf(s)?.master.address !== next.shardOf(s)?.master.address) this.#dropSlot(s);
    }
  }

  #dropSlot(slot: number): void {
    this.#slotGen[slot]!++;
    this.#store.invalidateSlot(slot);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const trackers = [...this.#trackers.values()];
    this.#trackers.clear();
    await Promise.all(trackers.map((t) => t.close()));
    this.#store.clear();
  }
}

function isPrimitive(a: unknown): boolean {
  return typeof a === 'string' || typeof a === 'number' || Buffer.isBuffer(a);
}

/** A Redis key as the index knows it: invalidations bring raw bytes, decoded the same way. */
function indexKey(key: string | Buffer | number): string {
  return typeof key === 'string' ? key : key.toString();
}

/**
 * The cache key of one call: command, reply encoding and every argument,
 * each typed and length-prefixed so that no two different calls collide.
 * Such ids start with "\x01"; the commonest call, GET of a string key with
 * a string reply, uses the key itself (when it does not start with "\x01"),
 * so a hit builds no string and looks up one the caller may already have
 * hashed (CacheStore keeps such entries out of its key index).
 */
function entryId(lower: string, args: readonly unknown[], buffer: boolean): string {
  if (lower === 'get' && !buffer && args.length === 1) {
    const a = args[0];
    if (typeof a === 'string' && a.charCodeAt(0) !== 1) return a;
  }
  let id = buffer ? `\x01${lower}|b` : `\x01${lower}|s`;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string | number | Buffer;
    const s = typeof a === 'string' ? a : typeof a === 'number' ? String(a) : a.toString('latin1');
    id += `|${typeof a === 'string' ? 's' : typeof a === 'number' ? 'n' : 'b'}${s.length}:${s}`;
  }
  return id;
}
