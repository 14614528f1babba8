import { performance } from 'node:perf_hooks';
import type { ClusterClient } from '../cluster-client.js';
import { jitter } from '../core/retry.js';
import { InvalidArgumentError } from '../errors.js';
import { checkClient } from '../check-client.js';
import { checkName, checkPrefix, describe, LockKeys } from './keys.js';
import { nonNegative, positiveInt, resolveAcquire, type AcquireOptions } from './options.js';
import { lockRuntime, type LockRuntime } from './runtime.js';

/** Options of `new CountDownLatch(client, name, options)`. */
export interface CountDownLatchOptions {
  /** Prefix of every key (no braces). @default 'slotwise:' */
  keyPrefix?: string;
  /** Longest gap between two checks while waiting (ms); releases wake waiters earlier. @default 250 */
  retryDelayMs?: number;
  /** Default time `wait()` waits (ms). @default 10000 */
  waitMs?: number;
}

/**
 * A count-down latch shared by processes: `trySetCount(n)` arms it, each
 * `countDown()` lowers it, `wait()` resolves once it reaches zero. A latch
 * that was never armed (or already opened) counts as open.
 */
export class CountDownLatch {
  /** The latch's name (without prefix or braces). */
  readonly name: string;
  /** The client the latch lives on. */
  readonly client: ClusterClient;
  /** The latch's keys, all in one slot. */
  readonly keys: LockKeys;
  readonly #rt: LockRuntime;
  readonly #retryDelayMs: number;
  readonly #waitMs: number;

  constructor(client: ClusterClient, name: string, options: CountDownLatchOptions = {}) {
    this.client = checkClient(client);
    this.name = checkName(name);
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('latch options', `expected an object, got ${describe(options)}`);
    this.keys = new LockKeys(checkPrefix(options.keyPrefix ?? 'slotwise:'), 'latch', this.name);
    this.#retryDelayMs = positiveInt({ retryDelayMs: options.retryDelayMs ?? 250 }, 'retryDelayMs');
    this.#waitMs = nonNegative({ waitMs: options.waitMs ?? 10_000 }, 'waitMs', true);
    this.#rt = lockRuntime(this.client);
  }

  /**
   * Arms the latch with `count` if it is not armed already; true when this
   * call armed it. `ttlMs` bounds how long an armed latch lives (recommended:
   * a latch whose counters crashed would otherwise stay armed forever).
   */
  async trySetCount(count: number, options: { ttlMs?: number } = {}): Promise<boolean> {
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
      throw new InvalidArgumentError('count', `expected an integer ≥ 1, got ${describe(count)}`);
    }
    const extra = options.ttlMs === undefined ? [] : ['PX', positiveInt({ ttlMs: options.ttlMs }, 'ttlMs')];
    return (await this.client.call('SET', this.keys.base, count, 'NX', ...extra)) === 'OK';
  }

  /** Lowers the count by one; returns what is left (0: the latch opened, waiters were woken). */
  async countDown(): Promise<number> {
    const left = Number(await this.#rt.scripts.latchCountDown.run([this.keys.base], [this.keys.channel]));
    if (left === 0) this.#rt.waker.notify(this.keys.channel, 'all');
    return left;
  }

  /** The current count (0 when open). */
  async getCount(): Promise<number> {
    return Number((await this.client.get(this.keys.base)) ?? 0);
  }

  /**
   * Resolves true once the count is zero, false when `waitMs` passed first;
   * rejects with the signal's reason when aborted.
   */
  async wait(options?: AcquireOptions): Promise<boolean> {
    const { waitMs, signal } = resolveAcquire(options, this.#waitMs);
    const deadline = performance.now() + waitMs;
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      if ((await this.getCount()) === 0) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await this.#rt.waker.wait(this.keys.channel, Math.min(left, jitter(this.#retryDelayMs)), signal);
    }
  }
}
