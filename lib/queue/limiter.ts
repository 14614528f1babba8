import type { LimitKeys } from './keys.js';
import type { ResolvedQueueOptions } from './options.js';
import type { QueueScripts } from './scripts.js';

/** Longest a worker waits before asking again for a slot of a full concurrency cap (slots freed by other processes are not announced). */
const CAP_POLL_MS = 25;

/** What one `acquire` got. */
export interface Grant {
  /** Jobs that may start now (0 to the number asked for). */
  readonly granted: number;
  /** One lease per granted job when the queue has a concurrency cap (else empty). */
  readonly leases: readonly string[];
  /** When nothing was granted: ms to wait before asking again. */
  readonly retryAfterMs: number;
}

/**
 * The queue-wide limits (`limiter`, `globalConcurrency`) as one script call
 * per batch of jobs on the queue's own "limits" slot. That slot is usually on
 * another master than the partition being read, so it cannot join the
 * partition's fetch script; one extra round trip per BATCH (not per job) is
 * the price, and only for queues that set a limit.
 */
export class QueueLimits {
  readonly #scripts: QueueScripts;
  readonly #keys: LimitKeys;
  readonly #intervalUs: number;
  readonly #toleranceUs: number;
  readonly #cap: number;
  readonly #leaseMs: number;
  #seq = 0;

  constructor(scripts: QueueScripts, keys: LimitKeys, options: ResolvedQueueOptions<unknown>) {
    this.#scripts = scripts;
    this.#keys = keys;
    const l = options.limiter;
    this.#intervalUs = l === undefined ? 0 : (l.durationMs * 1000) / l.max;
    this.#toleranceUs = l === undefined ? 0 : this.#intervalUs * l.burst;
    this.#cap = options.globalConcurrency ?? 0;
    this.#leaseMs = options.visibilityTimeoutMs;
  }

  /** Whether the queue has a rate limit or a concurrency cap at all. */
  get active(): boolean {
    return this.#intervalUs > 0 || this.#cap > 0;
  }

  /** Whether running jobs hold leases (a concurrency cap is set). */
  get capped(): boolean {
    return this.#cap > 0;
  }

  /** Asks for up to `n` job starts for `consumer`; grants what the rate and the cap allow now. */
  async acquire(n: number, consumer: string): Promise<Grant> {
    const names = this.#cap > 0 ? Array.from({ length: n }, () => `${consumer}:${++this.#seq}`) : [];
    const r = (await this.#run(['acquire', n, String(this.#intervalUs), String(this.#toleranceUs), this.#cap, this.#leaseMs, ...names])) as number[];
    const granted = Number(r[0]);
    const retryUs = Number(r[1]);
    return { granted, leases: names.slice(0, granted), retryAfterMs: granted > 0 ? 0 : retryUs < 0 ? CAP_POLL_MS : Math.max(1, Math.ceil(retryUs / 1000)) };
  }

  /** Gives back leases of jobs that ended (or never started), and `unused` rate grants that started nothing. */
  async release(leases: readonly string[], unused = 0): Promise<void> {
    if (leases.length === 0 && (unused === 0 || this.#intervalUs === 0)) return;
    await this.#run(['release', unused, String(this.#intervalUs), ...leases]);
  }

  /** Renews the leases of jobs still running (the heartbeat). */
  async renew(leases: readonly string[]): Promise<void> {
    if (leases.length > 0) await this.#run(['renew', this.#leaseMs, ...leases]);
  }

  #run(args: readonly (string | number)[]): Promise<unknown> {
    return this.#scripts.limits.run([this.#keys.rate, this.#keys.running], args);
  }
}
