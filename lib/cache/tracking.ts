import type { Redis } from 'ioredis';
import type { ResolvedOptions } from '../options.js';
import { closeConnection, openConnection } from '../node/connection.js';

/** The channel Redis publishes invalidations on for RESP2 redirect clients. */
export const INVALIDATE_CHANNEL = '__redis__:invalidate';

/** What a tracker reports to the cache. */
export interface TrackerEvents {
  /** Keys invalidated by the node (`null`: the node flushed, drop everything it covered). */
  onInvalidate(node: string, keys: Buffer[] | null): void;
  /** Tracking of `node` stopped or changed: entries it covered must go. */
  onReset(node: string): void;
}

const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 2000;

/**
 * Server-assisted invalidation for one master. ioredis drops RESP3
 * `invalidate` pushes, so tracking uses Redis' RESP2 redirect mode: a
 * subscriber connection of our own SUBSCRIBEs to `__redis__:invalidate`, and
 * the node's multiplexed data connection runs `CLIENT TRACKING on REDIRECT
 * <subscriber id>`.
 *
 * `epoch` changes whenever tracking may have missed something (data or
 * subscriber connection lost or replaced, flush): a read remembers it when
 * sent and its reply is kept only if it is unchanged when the reply arrives.
 * `on` is true only while the current data connection is tracked.
 */
export class NodeTracker {
  readonly address: string;
  readonly #host: string;
  readonly #port: number;
  readonly #options: ResolvedOptions;
  readonly #events: TrackerEvents;
  epoch = 0;
  on = false;
  #sub: Redis | undefined;
  #subId: Promise<number> | undefined;
  #retryMs = RETRY_MIN_MS;
  #retryTimer: NodeJS.Timeout | undefined;
  /** Re-points the node's data connection at a new subscriber (set once a data connection exists). */
  #repoint: ((id: number) => Promise<unknown>) | undefined;
  #closed = false;

  constructor(address: string, host: string, port: number, options: ResolvedOptions, events: TrackerEvents) {
    this.address = address;
    this.#host = host;
    this.#port = port;
    this.#options = options;
    this.#events = events;
  }

  /** Tracking can no longer be trusted: new epoch, off, entries dropped. */
  reset(): void {
    this.epoch++;
    this.on = false;
    this.#events.onReset(this.address);
  }

  /**
   * Called for every new data connection of the node before it carries any
   * command: turns tracking on for it. Never throws (the connection then
   * works uncached); `repoint` runs CLIENT TRACKING on the node's current
   * data connection later, after a subscriber is replaced.
   */
  async prepare(data: Redis, repoint: (id: number) => Promise<unknown>): Promise<void> {
    this.#repoint = repoint;
    this.reset();
    const token = this.epoch;
    // Bounded: a node that accepts connections but does not answer must not
    // hold its data connection back. Tracking may still come on later (the
    // token check keeps that correct).
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#options.connectTimeoutMs);
    });
    await Promise.race([this.#track(data, token), gaveUp]);
    clearTimeout(timer);
  }

  async #track(data: Redis, token: number): Promise<void> {
    let id: number;
    try {
      id = await this.#subscriberId();
    } catch {
      // No subscriber: the node stays uncached until one can be opened.
      this.#scheduleRetrack();
      return;
    }
    try {
      await data.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(id));
      this.#enable(token);
    } catch {
      // The data connection failed: its replacement runs prepare() again.
    }
  }

  #enable(token: number): void {
    if (this.#closed || token !== this.epoch) return;
    this.epoch++;
    this.on = true;
  }

  /** The subscriber's client id, opening and subscribing it when needed (single-flight). */
  #subscriberId(): Promise<number> {
    this.#subId ??= this.#openSubscriber().catch((err: unknown) => {
      this.#subId = undefined;
      throw err;
    });
    return this.#subId;
  }

  async #openSubscriber(): Promise<number> {
    if (this.#closed) throw new Error('tracker closed');
    // RESP2: in RESP3 the redirected invalidations would arrive as pushes ioredis ignores.
    const sub = await openConnection(this.#host, this.#port, { ...this.#options, protocol: 2 }, 'slotwise-cache-invalidations');
    if (this.#closed) {
      sub.disconnect();
      throw new Error('tracker closed');
    }
    try {
      const id = Number(await sub.call('CLIENT', 'ID'));
      sub.on('messageBuffer', (channel: Buffer, payload: unknown) => {
        if (channel.toString() !== INVALIDATE_CHANNEL) return;
        this.#events.onInvalidate(this.address, Array.isArray(payload) ? (payload as Buffer[]) : null);
      });
      await sub.subscribe(INVALIDATE_CHANNEL);
      this.#sub = sub;
      sub.once('end', () => this.#subscriberLost(sub));
      this.#retryMs = RETRY_MIN_MS;
      return id;
    } catch (err) {
      sub.disconnect();
      throw err;
    }
  }

  /**
   * The server stops redirecting when the subscriber goes (it would send
   * `tracking-redir-broken`, which a RESP2 data connection never sees):
   * drop the node's entries and track again with a new subscriber.
   */
  #subscriberLost(sub: Redis): void {
    if (this.#sub !== sub) return;
    this.#sub = undefined;
    this.#subId = undefined;
    if (this.#closed) return;
    this.reset();
    this.#scheduleRetrack();
  }

  #scheduleRetrack(): void {
    if (this.#closed || this.#retryTimer !== undefined || this.#repoint === undefined) return;
    const delay = this.#retryMs;
    this.#retryMs = Math.min(RETRY_MAX_MS, this.#retryMs * 2);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#retrack();
    }, delay);
    this.#retryTimer.unref();
  }

  async #retrack(): Promise<void> {
    const token = this.epoch;
    try {
      const id = await this.#subscriberId();
      await this.#repoint!(id);
      this.#enable(token);
    } catch {
      if (!this.on) this.#scheduleRetrack();
    }
  }

  /** The node left the map or the client closes. */
  async close(): Promise<void> {
    this.#closed = true;
    this.on = false;
    this.epoch++;
    clearTimeout(this.#retryTimer);
    const sub = this.#sub ?? (await this.#subId?.then(() => this.#sub, () => undefined));
    this.#sub = undefined;
    if (sub !== undefined) await closeConnection(sub, false);
  }
}
