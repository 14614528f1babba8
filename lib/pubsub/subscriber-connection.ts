import type { Redis } from 'ioredis';
import type { Router } from '../router/router.js';
import type { SubscriptionKind } from './types.js';

/** What a subscriber connection reports to its owner. */
export interface SubscriberConnectionEvents {
  message(kind: SubscriptionKind, channel: string, message: string, pattern: string | undefined): void;
  /** The server unsubscribed us from these shard channels (their slot moved away, or a failover). */
  dropped(channels: string[]): void;
  /** The connection ended without `close()` being called. */
  end(): void;
}

const UNSUBSCRIBE = { subscribe: 'unsubscribe', psubscribe: 'punsubscribe', ssubscribe: 'sunsubscribe' } as const;

/**
 * One connection of our own in subscriber mode, to one node. Never taken
 * from (or returned to) the router's pools: a subscribed connection is
 * useless for anything else. It is not reconnected — its owner decides where
 * the subscriptions go next (that may be another node).
 */
export class SubscriberConnection {
  readonly address: string;
  readonly #redis: Redis;
  readonly #events: SubscriberConnectionEvents;
  /**
   * Shard channels the server confirmed and has not taken back: compared with
   * ioredis's bookkeeping to tell which ones an unsolicited `sunsubscribe` dropped.
   */
  readonly #shardChannels = new Set<string>();
  #closed = false;
  #checkScheduled = false;

  private constructor(address: string, redis: Redis, events: SubscriberConnectionEvents) {
    this.address = address;
    this.#redis = redis;
    this.#events = events;
    // Buffer variants always fire (the string ones only when listened to); decoding here keeps one path.
    redis.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      events.message('subscribe', channel.toString(), message.toString(), undefined);
    });
    redis.on('pmessageBuffer', (pattern: Buffer | string, channel: Buffer, message: Buffer) => {
      events.message('psubscribe', channel.toString(), message.toString(), pattern.toString());
    });
    redis.on('smessageBuffer', (channel: Buffer, message: Buffer) => {
      events.message('ssubscribe', channel.toString(), message.toString(), undefined);
    });
    // ioredis emits `moved` for an unsolicited `sunsubscribe` push (slot migrated
    // or failover) and for a MOVED reply to SSUBSCRIBE. Several can arrive in one
    // read, so the check runs once after the current I/O batch.
    redis.on('moved', () => this.#scheduleCheck());
    redis.once('end', () => {
      if (this.#closed) return;
      this.#closed = true;
      this.#events.end();
    });
  }

  /** Opens a subscriber connection to `host:port` (rejects when the node cannot be reached). */
  static async open(router: Router, address: string, hostname: string, port: number, events: SubscriberConnectionEvents): Promise<SubscriberConnection> {
    const redis = await router.openConnection(hostname, port, `${router.options.connectionName}:subscriber`);
    return new SubscriberConnection(address, redis, events);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Subscribes; resolves once the server confirmed every channel. Sharded channels must share one slot. */
  async subscribe(kind: SubscriptionKind, channels: readonly string[]): Promise<void> {
    await this.#redis.call(kind, ...channels);
    if (this.#closed || kind !== 'ssubscribe') return;
    for (const c of channels) this.#shardChannels.add(c);
  }

  /** Unsubscribes (best effort: a dead connection has no subscriptions anyway). */
  async unsubscribe(kind: SubscriptionKind, channels: readonly string[]): Promise<void> {
    if (kind === 'ssubscribe') for (const c of channels) this.#shardChannels.delete(c);
    if (this.#closed || channels.length === 0) return;
    await this.#redis.call(UNSUBSCRIBE[kind], ...channels).catch(() => undefined);
  }

  /** Closes the socket; no `end` event is reported for a close we asked for. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const r = this.#redis;
    if (r.status === 'end') return;
    const ended = new Promise<void>((resolve) => r.once('end', () => resolve()));
    r.disconnect();
    await ended;
  }

  #scheduleCheck(): void {
    if (this.#checkScheduled) return;
    this.#checkScheduled = true;
    setImmediate(() => {
      this.#checkScheduled = false;
      if (this.#closed) return;
      const onServer = this.#serverShardChannels();
      const dropped = [...this.#shardChannels].filter((c) => onServer === undefined || !onServer.has(c));
      if (dropped.length === 0) return;
      for (const c of dropped) this.#shardChannels.delete(c);
      this.#events.dropped(dropped);
    });
  }

  /**
   * The shard channels ioredis still counts as subscribed after the server's
   * pushes (undefined when that bookkeeping is not readable: then every
   * channel is treated as dropped, which costs a resubscription, never a miss).
   */
  #serverShardChannels(): Set<string> | undefined {
    const sub = (this.#redis as unknown as { condition?: { subscriber?: unknown } }).condition?.subscriber;
    if (sub === false || sub === undefined || sub === null) return new Set();
    const channels = (sub as { channels?: (kind: string) => string[] }).channels;
    if (typeof channels !== 'function') return undefined;
    return new Set(channels.call(sub, 'ssubscribe'));
  }
}
