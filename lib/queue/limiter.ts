import type { LimitKeys } from './keys.js';
import type { ResolvedQueueOptions } from './options.js';
import type { QueueScripts } from './scripts.js';

/**
 * Most of the rate one call may take, in ms worth (at 200 jobs/s: 20 jobs):
 * enough that a worker's round trips do not cap its rate, small enough that
 * one worker does not take a whole burst.
 */
const GRANT_MS = 100;

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
  /**
   * With a rate limit: local time (Date.now()) after which this grant is too
   * old to start a job with — the job must ask again (`regrant`).
   */
  readonly freshUntil: number | undefined;
  /** Server µs the units were granted at (for giving unused ones back). */
  readonly grantedUs: number;
}

/** Shortest freshness window of a grant, ms (below it a grant could hardly ever be used in time). */
const MIN_FRESH_MS = 10;
/** Longest lag between a grant and the start it pays for, ms (the headroom kept out of the burst, at most half of it). */
const MAX_FRESH_MS = 100;
/**
 * The clock offset (local − server) is the least (local receive − server
 * time) seen over the current and the previous period of this length: a
 * reply processed late (a busy event loop) never makes grants look fresher,
 * and a clock step is followed within two periods.
 */
const OFFSET_PERIOD_MS = 60_000;

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
  readonly #maxGrant: number;
  readonly #freshMs: number;
  #offsetPrev = Infinity;
  #offsetCur = Infinity;
  #offsetSince = 0;
  #seq = 0;

  constructor(scripts: QueueScripts, keys: LimitKeys, options: ResolvedQueueOptions<unknown>) {
    this.#scripts = scripts;
    this.#keys = keys;
    const l = options.limiter;
    this.#intervalUs = l === undefined ? 0 : (l.durationMs * 1000) / l.max;
    // Part of the burst (up to 100 ms worth, at most half) is kept out of the GCRA's tolerance: it is the
    // headroom for the lag between a grant (server clock) and the start it pays for. A grant older than
    // that when its job would start is given back and asked for again, so the bound holds at the starts.
    const headroom = l === undefined ? 0 : Math.min(Math.floor(l.burst / 2), Math.ceil((MAX_FRESH_MS * 1000) / this.#intervalUs));
    this.#toleranceUs = l === undefined ? 0 : this.#intervalUs * (l.burst - headroom);
    this.#freshMs = Math.max(MIN_FRESH_MS, (headroom * this.#intervalUs) / 1000);
    this.#cap = options.globalConcurrency ?? 0;
    this.#leaseMs = options.visibilityTimeoutMs;
    this.#maxGrant = l === undefined ? Infinity : Math.max(1, Math.ceil((l.max * GRANT_MS) / l.durationMs));
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
  async acquire(want: number, consumer: string, withCap = true): Promise<Grant> {
    const n = Math.min(want, this.#maxGrant);
    const cap = withCap ? this.#cap : 0;
    const names = cap > 0 ? Array.from({ length: n }, () => `${consumer}:${++this.#seq}`) : [];
    const r = (await this.#run(['acquire', n, String(this.#intervalUs), String(this.#toleranceUs), cap, this.#leaseMs, ...names])) as number[];
    const granted = Number(r[0]);
    const retryUs = Number(r[1]);
    let freshUntil: number | undefined;
    const grantedUs = Number(r[2] ?? 0);
    if (granted > 0 && this.#intervalUs > 0) {
      const serverMs = Number(r[2]) / 1000;
      const local = Date.now();
      if (local - this.#offsetSince > OFFSET_PERIOD_MS) {
        this.#offsetPrev = this.#offsetCur;
        this.#offsetCur = Infinity;
        this.#offsetSince = local;
      }
      this.#offsetCur = Math.min(this.#offsetCur, local - serverMs);
      freshUntil = serverMs + Math.min(this.#offsetPrev, this.#offsetCur) + this.#freshMs;
    }
    return { granted, leases: names.slice(0, granted), retryAfterMs: granted > 0 ? 0 : retryUs < 0 ? CAP_POLL_MS : Math.max(1, Math.ceil(retryUs / 1000)), freshUntil, grantedUs };
  }

  /**
   * A job's grant went stale before it could start (its worker stalled):
   * gives that unit back and waits for a fresh one. Resolves with the new
   * grant's `freshUntil`, or undefined when `signal` aborted first.
   */
  async regrant(consumer: string, grantedUs: number, signal: AbortSignal): Promise<{ freshUntil: number; grantedUs: number } | undefined> {
    await this.release([], 1, grantedUs);
    while (!signal.aborted) {
      // Rate only: the job keeps the lease of the cap it already holds.
      const g = await this.acquire(1, consumer, false);
      if (g.granted > 0) return { freshUntil: g.freshUntil!, grantedUs: g.grantedUs };
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, g.retryAfterMs);
        signal.addEventListener('abort', done, { once: true });
      });
    }
    return undefined;
  }


  /**
   * Gives back leases of jobs that ended (or never started), and `unused`
   * rate units granted at server µs `grantedUs` that started nothing.
   */
  async release(leases: readonly string[], unused = 0, grantedUs = 0): Promise<void> {
    if (leases.length === 0 && (unused === 0 || this.#intervalUs === 0)) return;
    await this.#run(['release', unused, String(this.#intervalUs), String(grantedUs), ...leases]);
  }

  /** Renews the leases of jobs still running (the heartbeat). */
  async renew(leases: readonly string[]): Promise<void> {
    if (leases.length > 0) await this.#run(['renew', this.#leaseMs, ...leases]);
  }

  #run(args: readonly (string | number)[]): Promise<unknown> {
    return this.#scripts.limits.run([this.#keys.rate, this.#keys.running], args);
  }
}
