import { readFileSync } from 'node:fs';
import type { ClusterClient } from '../cluster-client.js';
import { checkClient } from '../check-client.js';
import { slotOf } from '../core/slots.js';
import { RateLimitedError } from '../errors.js';
import type { Script } from '../scripts/script.js';
import {
  checkLimitedKey,
  checkLimiterName,
  checkUnits,
  resolveRateAcquire,
  resolveRateLimiterOptions,
  type RateAcquireOptions,
  type RateLimiterOptions,
  type ResolvedRateLimiterOptions,
} from './options.js';

const GCRA_LUA = readFileSync(new URL('./gcra.lua', import.meta.url), 'utf8');

/** What one check answered. */
export interface RateLimitResult {
  /** The units were granted (and counted). */
  readonly granted: boolean;
  /** Units this key could still be granted right now, after this check. */
  readonly remaining: number;
  /** When refused: ms until the same request would be granted (0 when granted). */
  readonly retryAfterMs: number;
  /** ms until the key is idle again (its full burst available). */
  readonly resetAfterMs: number;
  /** The server's clock when it decided (µs since the epoch). */
  readonly serverTimeUs: number;
}

// One script object per client, shared by all its limiters.
const scripts = new WeakMap<ClusterClient, Script>();

/**
 * A distributed rate limiter: per-key limits kept in Redis Cluster with the
 * GCRA (generic cell rate algorithm — a token bucket stored as one
 * timestamp). Each check is ONE script call on the master of the key's slot,
 * so every process sharing the cluster shares each key's budget, and the
 * state (one string per limited key, expiring once the key is idle) moves with
 * its slot through a reshard. See docs/18-rate-limiter.md.
 *
 * Guarantee: in any window of W ms one key is granted at most
 * `burst + W × limit / periodMs` units (burst defaults to `limit`).
 *
 * ```ts
 * const limiter = new RateLimiter(client, 'api', { limit: 100, periodMs: 1000, burst: 20 });
 * const r = await limiter.tryAcquire(`user:${id}`);
 * if (!r.granted) res.status(429).set('Retry-After', String(Math.ceil(r.retryAfterMs / 1000)));
 * ```
 */
export class RateLimiter {
  /** The limiter's name: keys of different limiters never collide. */
  readonly name: string;
  /** The client every check goes through. */
  readonly client: ClusterClient;
  /** The options after defaults and validation (frozen). */
  readonly options: ResolvedRateLimiterOptions;
  /** Server µs between two units at the sustained rate. */
  readonly intervalUs: number;
  readonly #script: Script;
  readonly #args: readonly [string, string];

  constructor(client: ClusterClient, name: string, options: RateLimiterOptions) {
    this.client = checkClient(client);
    this.name = checkLimiterName(name);
    this.options = resolveRateLimiterOptions(options);
    this.intervalUs = (this.options.periodMs * 1000) / this.options.limit;
    this.#args = [String(this.intervalUs), String(this.intervalUs * this.options.burst)];
    let script = scripts.get(this.client);
    if (script === undefined) scripts.set(this.client, (script = this.client.defineScript({ name: 'slotwise-rate-gcra', lua: GCRA_LUA })));
    this.#script = script;
  }

  /**
   * The Redis key holding `key`'s state: `<prefix>rate:{<name>:<key>}` — its
   * own hash tag, so limited keys spread over the cluster's slots.
   */
  keyOf(key: string): string {
    return `${this.options.keyPrefix}rate:{${this.name}:${checkLimitedKey(key)}}`;
  }

  /** The hash slot of `key`'s state. */
  slotOf(key: string): number {
    return slotOf(this.keyOf(key));
  }

  /**
   * One check: grants `n` units of `key` if its budget allows, otherwise
   * counts nothing and says when to retry. Never waits. Rejects only with
   * InvalidArgumentError (bad `key` or `n`, nothing sent) or the
   * ConnectionError/TimeoutError that kept the cluster from answering.
   */
  async tryAcquire(key: string, n = 1): Promise<RateLimitResult> {
    const redisKey = this.keyOf(key);
    const units = checkUnits(n, this.options.burst);
    const r = (await this.#script.run([redisKey], [this.#args[0], this.#args[1], units])) as number[];
    return {
      granted: Number(r[0]) === 1,
      remaining: Number(r[1]),
      retryAfterMs: Math.ceil(Number(r[2]) / 1000),
      resetAfterMs: Math.ceil(Number(r[3]) / 1000),
      serverTimeUs: Number(r[4]),
    };
  }

  /**
   * Waits until `n` units of `key` are granted: checks, sleeps the time the
   * server reported, checks again. Rejects with RateLimitedError at once when
   * that time exceeds what is left of `waitMs`, with the signal's reason when
   * aborted (nothing granted), and with the errors of `tryAcquire()`.
   */
  async acquire(key: string, n = 1, options?: RateAcquireOptions): Promise<RateLimitResult> {
    this.keyOf(key);
    checkUnits(n, this.options.burst);
    const { waitMs, signal } = resolveRateAcquire(options);
    const deadline = performance.now() + waitMs;
    for (;;) {
      signal?.throwIfAborted();
      const r = await this.tryAcquire(key, n);
      if (r.granted) return r;
      // Aborted while the check was on the wire: that grant was refused anyway.
      signal?.throwIfAborted();
      if (performance.now() + r.retryAfterMs > deadline) throw new RateLimitedError(key, r.retryAfterMs, { slot: this.slotOf(key) });
      await abortableSleep(Math.max(1, r.retryAfterMs), signal);
    }
  }

  /** Forgets `key`'s history: its full burst is available again. */
  async reset(key: string): Promise<void> {
    await this.client.del(this.keyOf(key));
  }
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
