import { slotOf } from '../core/slots.js';
import type { TopologySnapshot } from '../topology/snapshot.js';
import { Reconciler, deferred, withTimeout, type Deferred } from './retry.js';
import { SubscriberConnection } from './subscriber-connection.js';
import type { Router } from '../router/router.js';
import type { GapEvent } from './types.js';

/** What the sharded subscriber reports to `client.pubsub`. */
export interface ShardedDeps {
  readonly router: Router;
  dispatch(channel: string, message: string): void;
  gap(gap: GapEvent): void;
  error(err: Error): void;
}

interface ChannelState {
  readonly channel: string;
  readonly slot: number;
  /** The connection the channel is subscribed (or being subscribed) on. */
  conn: SubscriberConnection | undefined;
  live: boolean;
  inFlight: boolean;
  /** Set while a once-live channel is not live: the start of its gap. */
  lost: { since: number; reason: GapEvent['reason'] } | undefined;
  /** Resolved the first time the channel is live. */
  readonly ready: Deferred<void>;
  everLive: boolean;
  /** The node that took the subscription back (server SUNSUBSCRIBE), while that is news. */
  droppedBy: string | undefined;
}

const MAX_REDIRECTS = 5;

/**
 * How long a view naming, as the slot's master, the node that just took the
 * channel back counts as stale. A demoted master accepts SSUBSCRIBE for its
 * new master's slots (a replica serves sharded pub/sub), so subscribing there
 * would "work" while the rest of the cluster has not yet heard of the
 * failover; past this window the view is believed (a fail-back is possible).
 */
const STALE_VIEW_MS = 3000;

interface ConnEntry {
  readonly promise: Promise<SubscriberConnection>;
  conn: SubscriberConnection | undefined;
  /** Subscribe calls under way on it: it must not be closed as unused meanwhile. */
  busy: number;
}

/**
 * Sharded pub/sub (SSUBSCRIBE): every channel lives on the master owning its
 * slot, over one subscriber connection per node. When the server takes a
 * subscription back (its slot migrated, or a failover demoted the node) or
 * the connection dies, the channel is resubscribed on the slot's current
 * owner — found through a fresh topology and MOVED replies — and the window
 * is reported as a `gap`.
 */
export class ShardedSubscriber {
  readonly #deps: ShardedDeps;
  readonly #channels = new Map<string, ChannelState>();
  readonly #conns = new Map<string, ConnEntry>();
  readonly #reconciler: Reconciler;
  #needRefresh = false;
  #closed = false;

  constructor(deps: ShardedDeps) {
    this.#deps = deps;
    this.#reconciler = new Reconciler(() => this.#pass(), (err) => deps.error(err));
  }

  /** Makes sure every channel is subscribed; resolves once all are live. */
  async add(channels: readonly string[], timeoutMs: number): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const channel of channels) {
      let s = this.#channels.get(channel);
      if (s === undefined) {
        s = { channel, slot: slotOf(channel), conn: undefined, live: false, inFlight: false, lost: undefined, ready: deferred(), everLive: false, droppedBy: undefined };
        s.ready.promise.catch(() => undefined);
        this.#channels.set(channel, s);
      }
      if (!s.everLive) waits.push(s.ready.promise);
    }
    if (waits.length === 0) return;
    this.#reconciler.now();
    await withTimeout(Promise.all(waits), timeoutMs, `SSUBSCRIBE ${channels.join(' ')}`);
  }

  /** Channels nobody listens to any more: unsubscribed on the server. */
  async remove(channels: readonly string[]): Promise<void> {
    const byConn = new Map<SubscriberConnection, string[]>();
    for (const channel of channels) {
      const s = this.#channels.get(channel);
      if (s === undefined) continue;
      this.#channels.delete(channel);
      if (s.conn && s.live) append(byConn, s.conn, channel);
    }
    await Promise.all([...byConn].map(([conn, chans]) => this.#unsubscribeBySlot(conn, chans)));
    await this.#closeUnused();
  }

  /** A new topology: channels living on a node that left their slot's shard are moved. */
  onTopology(snap: TopologySnapshot): void {
    let moved = false;
    for (const s of this.#channels.values()) {
      if (!s.live || s.conn === undefined) continue;
      const shard = snap.shardOf(s.slot);
      if (shard === undefined) continue;
      const inShard = shard.master.address === s.conn.address || shard.replicas.some((r) => r.address === s.conn!.address);
      if (inShard) continue;
      void s.conn.unsubscribe('ssubscribe', [s.channel]);
      this.#markLost(s, 'moved');
      moved = true;
    }
    if (moved || [...this.#channels.values()].some((s) => !s.live)) this.#reconciler.now();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#reconciler.stop();
    for (const s of this.#channels.values()) s.ready.reject(new Error('pub/sub closed'));
    this.#channels.clear();
    const conns = [...this.#conns.values()];
    this.#conns.clear();
    await Promise.all(conns.map((e) => e.promise.then((c) => c.close(), () => undefined)));
  }

  /** One reconciliation pass: subscribes every channel that is not live. True when nothing is left to do. */
  async #pass(): Promise<boolean> {
    if (this.#closed) return true;
    const todo = [...this.#channels.values()].filter((s) => !s.live && !s.inFlight);
    if (todo.length === 0) {
      await this.#closeUnused();
      return true;
    }
    const router = this.#deps.router;
    if (this.#needRefresh) {
      // A subscription was taken back: the slot has a new owner the map may not know yet.
      this.#needRefresh = false;
      await router.refresh('sharded-pubsub');
    }
    if (router.current === undefined) await router.ready();
    const snap = router.current!;
    const bySlot = new Map<number, ChannelState[]>();
    for (const s of todo) append(bySlot, s.slot, s);
    const now = Date.now();
    const results = await Promise.all([...bySlot].map(([slot, states]) => {
      const m = snap.shardOf(slot)?.master;
      if (m === undefined || states.some((s) => isStaleOwner(s, m.address, now))) return Promise.resolve(false);
      return this.#subscribeGroup(states, m, 0);
    }));
    await this.#closeUnused();
    const ok = results.every(Boolean);
    if (!ok) this.#needRefresh = true;
    return ok;
  }

  async #subscribeGroup(states: ChannelState[], target: { address: string; host: string; port: number }, redirects: number): Promise<boolean> {
    const entry = this.#connection(target);
    entry.busy++;
    try {
      return await this.#subscribeOn(entry, states, redirects, target.host);
    } finally {
      entry.busy--;
    }
  }

  async #subscribeOn(entry: ConnEntry, states: ChannelState[], redirects: number, host: string): Promise<boolean> {
    let conn: SubscriberConnection;
    try {
      conn = await entry.promise;
    } catch {
      return false;
    }
    const names = states.map((s) => s.channel);
    for (const s of states) {
      s.conn = conn;
      s.inFlight = true;
    }
    const timeoutMs = this.#deps.router.options.commandTimeoutMs;
    try {
      await withTimeout(conn.subscribe('ssubscribe', names), timeoutMs, 'SSUBSCRIBE');
    } catch (err) {
      for (const s of states) {
        s.inFlight = false;
        if (s.conn === conn) s.conn = undefined;
      }
      const moved = this.#deps.router.followMoved(err, host);
      if (moved && redirects < MAX_REDIRECTS) return this.#subscribeGroup(states, moved, redirects + 1);
      // A subscribe that never answers means a dead or paused node: drop that connection.
      if (!moved && (err as Error).name === 'TimeoutError') {
        this.#onEnd(conn);
        void conn.close();
      }
      else if (!moved && (err as Error).name === 'ReplyError') this.#deps.error(err as Error);
      return false;
    }
    const now = Date.now();
    const stale: string[] = [];
    for (const s of states) {
      s.inFlight = false;
      if (this.#channels.get(s.channel) !== s || s.conn !== conn) {
        // Unsubscribed (or moved) while the SSUBSCRIBE was in flight.
        if (this.#channels.get(s.channel)?.conn !== conn) stale.push(s.channel);
        continue;
      }
      s.live = true;
      s.droppedBy = undefined;
      if (s.lost) {
        this.#deps.gap({ kind: 'ssubscribe', channel: s.channel, from: s.lost.since, to: now, reason: s.lost.reason, address: conn.address });
        s.lost = undefined;
      }
      if (!s.everLive) {
        s.everLive = true;
        s.ready.resolve();
      }
    }
    if (stale.length > 0) await conn.unsubscribe('ssubscribe', stale);
    return true;
  }

  /** The subscriber connection to a node, opened once. */
  #connection(target: { address: string; host: string; port: number }): ConnEntry {
    const existing = this.#conns.get(target.address);
    if (existing !== undefined) return existing;
    let self: SubscriberConnection | undefined;
    const promise = SubscriberConnection.open(this.#deps.router, target.address, target.host, target.port, {
      message: (_kind, channel, message) => {
        // Only the connection the channel currently lives on may deliver: a
        // copy from a connection it is moving away from would be a duplicate.
        if (self !== undefined && this.#channels.get(channel)?.conn === self) this.#deps.dispatch(channel, message);
      },
      dropped: (channels) => this.#onDropped(self!, channels),
      end: () => this.#onEnd(self!),
    });
    const entry: ConnEntry = { promise, conn: undefined, busy: 0 };
    promise.then(
      (c) => {
        self = c;
        entry.conn = c;
        if (this.#closed) void c.close();
      },
      () => {
        if (this.#conns.get(target.address) === entry) this.#conns.delete(target.address);
      },
    );
    this.#conns.set(target.address, entry);
    return entry;
  }

  #onDropped(conn: SubscriberConnection, channels: string[]): void {
    for (const c of channels) {
      const s = this.#channels.get(c);
      if (s !== undefined && s.conn === conn && s.live) {
        this.#markLost(s, 'migrated');
        s.droppedBy = conn.address;
      }
    }
    this.#needRefresh = true;
    this.#reconciler.now();
  }

  #onEnd(conn: SubscriberConnection): void {
    this.#forget(conn);
    for (const s of this.#channels.values()) {
      if (s.conn === conn) {
        if (s.live) this.#markLost(s, 'connection');
        else s.conn = undefined;
      }
    }
    this.#needRefresh = true;
    this.#reconciler.now();
  }

  #markLost(s: ChannelState, reason: GapEvent['reason']): void {
    s.live = false;
    s.conn = undefined;
    s.lost ??= { since: Date.now(), reason };
  }

  #forget(conn: SubscriberConnection): void {
    const e = this.#conns.get(conn.address);
    if (e !== undefined && e.conn === conn) this.#conns.delete(conn.address);
  }

  /** SUNSUBSCRIBE takes one slot per call in a cluster. */
  async #unsubscribeBySlot(conn: SubscriberConnection, channels: string[]): Promise<void> {
    const bySlot = new Map<number, string[]>();
    for (const c of channels) append(bySlot, slotOf(c), c);
    await Promise.all([...bySlot.values()].map((group) => conn.unsubscribe('ssubscribe', group)));
  }

  /** Closes connections no channel uses any more. */
  async #closeUnused(): Promise<void> {
    const used = new Set<SubscriberConnection>();
    for (const s of this.#channels.values()) if (s.conn) used.add(s.conn);
    const closing: Promise<void>[] = [];
    for (const [address, e] of this.#conns) {
      if (e.conn === undefined || e.busy > 0 || used.has(e.conn)) continue;
      this.#conns.delete(address);
      closing.push(e.conn.close());
    }
    await Promise.all(closing);
  }
}

/** The view still names the node that just gave the channel up as its slot's master. */
function isStaleOwner(s: ChannelState, master: string, now: number): boolean {
  return s.droppedBy === master && s.lost !== undefined && now - s.lost.since < STALE_VIEW_MS;
}

/** Adds `value` to the group of `key` (copying the group on every add made large groups quadratic). */
function append<K, V>(groups: Map<K, V[]>, key: K, value: V): void {
  const group = groups.get(key);
  if (group === undefined) groups.set(key, [value]);
  else group.push(value);
}
