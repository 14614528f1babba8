import { EventEmitter } from 'node:events';
import { describeInput } from '../core/arguments.js';
import { ClientClosedError, InvalidArgumentError } from '../errors.js';
import type { TopologySnapshot } from '../topology/snapshot.js';
import { KeyspaceSubscription, resolveKeyspaceOptions, type KeyspaceEvent, type KeyspaceEventsOptions } from './keyspace.js';
import { NodeSubscriber } from './node-subscriber.js';
import { ShardedSubscriber } from './sharded.js';
import { MessageIterator, Subscription, type IteratorOptions } from './subscription.js';
import type { TopologyEvents } from '../client-events.js';
import type { Router } from '../router/router.js';
import type { GapEvent, MessageHandler, PubSubEvents, SubscriptionKind } from './types.js';

type Listeners = Map<string, Map<Subscription, MessageHandler>>;

/**
 * Pub/sub of one ClusterClient (`client.subscriber`), on connections of its own:
 * - classic `subscribe`/`psubscribe`: one connection to any node (PUBLISH is
 *   broadcast to every node by the cluster bus), moved to another node and
 *   resubscribed when it dies;
 * - sharded `ssubscribe`: one connection per node owning subscribed channels,
 *   following slot migrations and failovers (see ShardedSubscriber);
 * - keyspace notifications from every master (`keyspaceEvents`).
 * Every window in which a subscription was not live is reported as `gap`.
 * Closed by `client.quit()` / `client.disconnect()`.
 */
export class PubSub extends EventEmitter<PubSubEvents> {
  readonly #router: Router;
  readonly #events: TopologyEvents;
  readonly #sharded: ShardedSubscriber;
  readonly #classic: NodeSubscriber;
  readonly #keyspace = new Set<KeyspaceSubscription>();
  readonly #listeners: Record<SubscriptionKind, Listeners> = { subscribe: new Map(), psubscribe: new Map(), ssubscribe: new Map() };
  readonly #onTopology = (snap: TopologySnapshot) => this.#topologyChanged(snap);
  #roundRobin = 0;
  #closed = false;

  /** @internal Use `client.subscriber`. `events` is the client's emitter (for its `topology` event). */
  constructor(router: Router, events: TopologyEvents) {
    super();
    this.#router = router;
    this.#events = events;
    const error = (err: Error) => this.#report(err);
    this.#sharded = new ShardedSubscriber({
      router,
      dispatch: (channel, message) => this.#dispatch('ssubscribe', channel, message, channel, undefined),
      gap: (g) => this.#emitGap(g),
      error,
    });
    this.#classic = new NodeSubscriber({
      router,
      pick: (snap, failed) => {
        const nodes = [...snap.shards.map((s) => s.master), ...snap.shards.flatMap((s) => s.replicas)].filter((n) => n.health !== 'failed');
        const usable = nodes.filter((n) => !failed.has(n.address));
        const pool = usable.length > 0 ? usable : nodes;
        return pool.length === 0 ? undefined : pool[this.#roundRobin++ % pool.length];
      },
      accepts: (snap, address) => snap.node(address) !== undefined,
      dispatch: (kind, channel, message, pattern) => this.#dispatch(kind, kind === 'psubscribe' ? pattern! : channel, message, channel, pattern),
      gap: (g) => this.#emitGap(g),
      error,
    });
    events.on('topology', this.#onTopology);
  }

  /** Subscribes to classic channels (PUBLISH). Resolves once the server confirmed them. */
  subscribe(channels: string | readonly string[], handler: MessageHandler): Promise<Subscription> {
    return this.#subscribe('subscribe', channels, handler);
  }

  /** Subscribes to classic channel patterns (`news.*`). */
  psubscribe(patterns: string | readonly string[], handler: MessageHandler): Promise<Subscription> {
    return this.#subscribe('psubscribe', patterns, handler);
  }

  /** Subscribes to sharded channels (SPUBLISH), each on the master owning its slot. */
  ssubscribe(channels: string | readonly string[], handler: MessageHandler): Promise<Subscription> {
    return this.#subscribe('ssubscribe', channels, handler);
  }

  /** `subscribe()` as an async iterator; breaking out of the loop unsubscribes. */
  subscribeIterator(channels: string | readonly string[], options?: IteratorOptions): MessageIterator {
    return this.#iterator('subscribe', channels, options);
  }

  /** `psubscribe()` as an async iterator; messages carry the matching `pattern`. */
  psubscribeIterator(patterns: string | readonly string[], options?: IteratorOptions): MessageIterator {
    return this.#iterator('psubscribe', patterns, options);
  }

  /** `ssubscribe()` as an async iterator (sharded channels). */
  ssubscribeIterator(channels: string | readonly string[], options?: IteratorOptions): MessageIterator {
    return this.#iterator('ssubscribe', channels, options);
  }

  /**
   * Keyspace notifications (e.g. `expired` keys) from every master. The
   * server must have `notify-keyspace-events` enabled: see
   * KeyspaceEventsOptions.config.
   */
  async keyspaceEvents(options: KeyspaceEventsOptions, handler: (event: KeyspaceEvent) => void | Promise<void>): Promise<Subscription> {
    const opts = resolveKeyspaceOptions(options);
    if (typeof handler !== 'function') throw new InvalidArgumentError('handler', `expected a function, got ${typeof handler}`);
    this.#assertOpen();
    let sub!: Subscription;
    const ks = new KeyspaceSubscription(
      this.#router,
      opts,
      (e) => this.#call(() => handler(e)),
      (g) => {
        this.emit('gap', g);
        sub.emit('gap', g);
      },
      (err) => this.#report(err),
    );
    sub = new Subscription('keyspace', opts.channels, async () => {
      this.#keyspace.delete(ks);
      await ks.close();
    });
    this.#keyspace.add(ks);
    try {
      await ks.start();
    } catch (err) {
      await sub.unsubscribe();
      throw err;
    }
    return sub;
  }

  /** Ends every subscription and closes every subscriber connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#events.off('topology', this.#onTopology);
    for (const l of Object.values(this.#listeners)) l.clear();
    const ks = [...this.#keyspace];
    this.#keyspace.clear();
    await Promise.all([this.#sharded.close(), this.#classic.close(), ...ks.map((k) => k.close())]);
  }

  async #subscribe(kind: SubscriptionKind, channels: string | readonly string[], handler: MessageHandler): Promise<Subscription> {
    const list = validateChannels(kind, channels);
    if (typeof handler !== 'function') throw new InvalidArgumentError('handler', `expected a function, got ${typeof handler}`);
    this.#assertOpen();
    const sub = new Subscription(kind, list, (s) => this.#end(s));
    const listeners = this.#listeners[kind];
    for (const c of list) {
      let m = listeners.get(c);
      if (m === undefined) listeners.set(c, (m = new Map()));
      m.set(sub, handler);
    }
    const timeoutMs = this.#router.options.commandTimeoutMs;
    try {
      if (kind === 'ssubscribe') await this.#sharded.add(list, timeoutMs);
      else await this.#classic.add(kind, list, timeoutMs);
    } catch (err) {
      await sub.unsubscribe();
      throw err;
    }
    return sub;
  }

  #iterator(kind: SubscriptionKind, channels: string | readonly string[], options: IteratorOptions | undefined): MessageIterator {
    validateChannels(kind, channels);
    return new MessageIterator(options, (push) =>
      this.#subscribe(kind, channels, (message, channel, pattern) => push(pattern === undefined ? { channel, message } : { channel, message, pattern })));
  }

  async #end(sub: Subscription): Promise<void> {
    if (sub.kind === 'keyspace') return;
    const listeners = this.#listeners[sub.kind];
    const unused: string[] = [];
    for (const c of sub.channels) {
      const m = listeners.get(c);
      if (m === undefined || !m.delete(sub)) continue;
      if (m.size === 0) {
        listeners.delete(c);
        unused.push(c);
      }
    }
    if (unused.length === 0 || this.#closed) return;
    if (sub.kind === 'ssubscribe') await this.#sharded.remove(unused);
    else await this.#classic.remove(sub.kind, unused);
  }

  #dispatch(kind: SubscriptionKind, key: string, message: string, channel: string, pattern: string | undefined): void {
    const m = this.#listeners[kind].get(key);
    if (m === undefined) return;
    for (const handler of m.values()) this.#call(() => handler(message, channel, pattern));
  }

  /** Runs a user callback; what it throws or rejects with goes to `error`, never into our I/O path. */
  #call(fn: () => unknown): void {
    try {
      const r = fn();
      if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(undefined, (e: unknown) => this.#report(e));
    } catch (e) {
      this.#report(e);
    }
  }

  #emitGap(g: GapEvent): void {
    this.emit('gap', g);
    if (g.kind === 'keyspace') return;
    const m = this.#listeners[g.kind].get(g.channel);
    if (m !== undefined) for (const sub of m.keys()) sub.emit('gap', g);
  }

  #topologyChanged(snap: TopologySnapshot): void {
    if (this.#closed) return;
    this.#sharded.onTopology(snap);
    this.#classic.onTopology(snap);
    for (const k of this.#keyspace) k.onTopology(snap);
  }

  #report(e: unknown): void {
    if (this.listenerCount('error') === 0) return;
    this.emit('error', e instanceof Error ? e : new Error(`Non-Error thrown by a message handler: ${String(e)}`));
  }

  #assertOpen(): void {
    if (this.#closed || this.#router.closed) throw new ClientClosedError();
  }
}

function validateChannels(kind: SubscriptionKind, channels: string | readonly string[]): string[] {
  const what = kind === 'psubscribe' ? 'patterns' : 'channels';
  const list = typeof channels === 'string' ? [channels] : channels;
  if (!Array.isArray(list) || list.length === 0 || list.some((c) => typeof c !== 'string' || c.length === 0)) {
    throw new InvalidArgumentError(what, `expected a non-empty string or a non-empty array of non-empty strings, got ${describeInput(channels)}`);
  }
  return [...new Set(list as string[])];
}
