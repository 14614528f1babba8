import type { NodeDescriptor, TopologySnapshot } from '../topology/snapshot.js';
import { Reconciler, deferred, withTimeout, type Deferred } from './retry.js';
import { SubscriberConnection } from './subscriber-connection.js';
import type { Router } from '../router/router.js';
import type { GapEvent } from './types.js';

type NodeKind = 'subscribe' | 'psubscribe';

/** What a NodeSubscriber needs: where to subscribe, and where messages and gaps go. */
export interface NodeSubscriberDeps {
  readonly router: Router;
  /** Node to subscribe on, avoiding `failed` (addresses that just failed) when possible. */
  pick(snap: TopologySnapshot, failed: ReadonlySet<string>): NodeDescriptor | undefined;
  /** Whether the node the connection is on is still the right one. */
  accepts(snap: TopologySnapshot, address: string): boolean;
  dispatch(kind: NodeKind, channel: string, message: string, pattern: string | undefined, address: string): void;
  gap(gap: Omit<GapEvent, 'kind'> & { kind: NodeKind }): void;
  error(err: Error): void;
}

interface Entry {
  readonly kind: NodeKind;
  readonly channel: string;
  live: boolean;
  lost: { since: number; reason: GapEvent['reason'] } | undefined;
  readonly ready: Deferred<void>;
  everLive: boolean;
}

/**
 * Classic subscriptions (SUBSCRIBE/PSUBSCRIBE) on ONE connection to one node
 * at a time. When that connection dies or the node stops being acceptable,
 * everything is resubscribed on the node `pick()` chooses and the window is
 * reported as a gap per channel.
 */
export class NodeSubscriber {
  readonly #deps: NodeSubscriberDeps;
  readonly #entries = new Map<string, Entry>();
  readonly #failed = new Set<string>();
  readonly #reconciler: Reconciler;
  #conn: SubscriberConnection | undefined;
  #closed = false;

  constructor(deps: NodeSubscriberDeps) {
    this.#deps = deps;
    this.#reconciler = new Reconciler(() => this.#pass(), (err) => deps.error(err));
  }

  /** True when every entry is live. */
  get allLive(): boolean {
    return [...this.#entries.values()].every((e) => e.live);
  }

  /** Earliest start of a current gap, if any entry is not live after having been. */
  get lostSince(): number | undefined {
    let since: number | undefined;
    for (const e of this.#entries.values()) if (e.lost && (since === undefined || e.lost.since < since)) since = e.lost.since;
    return since;
  }

  async add(kind: NodeKind, channels: readonly string[], timeoutMs: number): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const channel of channels) {
      const key = `${kind}\0${channel}`;
      let e = this.#entries.get(key);
      if (e === undefined) {
        e = { kind, channel, live: false, lost: undefined, ready: deferred(), everLive: false };
        e.ready.promise.catch(() => undefined);
        this.#entries.set(key, e);
      }
      if (!e.everLive) waits.push(e.ready.promise);
    }
    if (waits.length === 0) return;
    this.#reconciler.now();
    await withTimeout(Promise.all(waits), timeoutMs, `${kind.toUpperCase()} ${channels.join(' ')}`);
  }

  async remove(kind: NodeKind, channels: readonly string[]): Promise<void> {
    const live: string[] = [];
    for (const channel of channels) {
      const e = this.#entries.get(`${kind}\0${channel}`);
      if (e === undefined) continue;
      this.#entries.delete(`${kind}\0${channel}`);
      if (e.live) live.push(channel);
    }
    if (this.#entries.size === 0) {
      await this.#dropConnection();
      return;
    }
    if (live.length > 0) await this.#conn?.unsubscribe(kind, live);
  }

  /** A new topology: move off a node that is no longer acceptable. */
  onTopology(snap: TopologySnapshot): void {
    this.#failed.clear();
    const conn = this.#conn;
    if (conn !== undefined && !this.#deps.accepts(snap, conn.address)) {
      this.#lose('moved');
      void this.#dropConnection();
    }
    if (!this.allLive) this.#reconciler.now();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#reconciler.stop();
    for (const e of this.#entries.values()) e.ready.reject(new Error('pub/sub closed'));
    this.#entries.clear();
    await this.#dropConnection();
  }

  async #pass(): Promise<boolean> {
    if (this.#closed) return true;
    const todo = [...this.#entries.values()].filter((e) => !e.live);
    if (todo.length === 0) return true;
    const router = this.#deps.router;
    if (router.current === undefined) await router.ready();
    let conn = this.#conn;
    if (conn === undefined || conn.closed) {
      const node = this.#deps.pick(router.current!, this.#failed);
      if (node === undefined) return false;
      try {
        conn = await this.#open(node);
      } catch {
        this.#failed.add(node.address);
        return false;
      }
      if (this.#closed) {
        await conn.close();
        return true;
      }
      this.#conn = conn;
    }
    const timeoutMs = router.options.commandTimeoutMs;
    for (const kind of ['subscribe', 'psubscribe'] as const) {
      const group = todo.filter((e) => e.kind === kind);
      if (group.length === 0) continue;
      try {
        await withTimeout(conn.subscribe(kind, group.map((e) => e.channel)), timeoutMs, kind.toUpperCase());
      } catch (err) {
        if ((err as Error).name === 'ReplyError') this.#deps.error(err as Error);
        this.#failed.add(conn.address);
        this.#lose('connection');
        await this.#dropConnection();
        return false;
      }
      const now = Date.now();
      for (const e of group) {
        if (this.#entries.get(`${kind}\0${e.channel}`) !== e) continue;
        e.live = true;
        if (e.lost) {
          this.#deps.gap({ kind, channel: e.channel, from: e.lost.since, to: now, reason: e.lost.reason, address: conn.address });
          e.lost = undefined;
        }
        if (!e.everLive) {
          e.everLive = true;
          e.ready.resolve();
        }
      }
    }
    this.#failed.clear();
    return true;
  }

  #open(node: NodeDescriptor): Promise<SubscriberConnection> {
    let self: SubscriberConnection | undefined;
    return SubscriberConnection.open(this.#deps.router, node.address, node.host, node.port, {
      message: (kind, channel, message, pattern) => {
        if (self !== undefined && self === this.#conn && kind !== 'ssubscribe') this.#deps.dispatch(kind, channel, message, pattern, self.address);
      },
      dropped: () => undefined,
      end: () => {
        if (self === undefined || self !== this.#conn) return;
        this.#conn = undefined;
        this.#failed.add(self.address);
        this.#lose('connection');
        this.#reconciler.now();
      },
    }).then((c) => (self = c));
  }

  /** Every live entry stops being live now. */
  #lose(reason: GapEvent['reason']): void {
    const now = Date.now();
    for (const e of this.#entries.values()) {
      if (!e.live) continue;
      e.live = false;
      e.lost ??= { since: now, reason };
    }
  }

  async #dropConnection(): Promise<void> {
    const c = this.#conn;
    this.#conn = undefined;
    await c?.close();
  }
}
