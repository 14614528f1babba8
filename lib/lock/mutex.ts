import type { ClusterClient } from '../cluster-client.js';
import { LeaseLock, type GrantSpec } from './base.js';
import { InvalidArgumentError } from '../errors.js';
import { describe, LockKeys } from './keys.js';
import { positiveInt, resolveLeaseOptions, type LeaseOptions } from './options.js';

/** Options of `new Mutex(client, name, options)`. */
export interface MutexOptions extends LeaseOptions {
  /**
   * First come, first served: a free lock goes to the waiter that has waited
   * longest (ordered by server time), not to whoever polls first. Costs a
   * queue in Redis and can leave the lock idle until the head waiter tries.
   * @default false
   */
  fair?: boolean;
  /**
   * How long a fair-queue waiter keeps its place without trying again (ms).
   * A waiter that crashed is skipped after this. Must exceed `retryDelayMs`.
   * @default 3 × retryDelayMs, at least 2000
   */
  queueTtlMs?: number;
}

/**
 * A distributed mutual-exclusion lock on one Redis Cluster slot, with
 * fencing tokens, a watchdog, wake-ups on release and optional fairness.
 * See docs/04-locks.md for exactly what it guarantees.
 *
 * ```ts
 * const mutex = new Mutex(client, 'orders:42', { leaseMs: 5000 });
 * await mutex.using(async (signal) => { … });
 * ```
 */
export class Mutex extends LeaseLock {
  /** Whether waiters are granted the lock in arrival order (`options.fair`). */
  readonly fair: boolean;
  /** How long a fair-queue place outlives its waiter's last sign of life (`options.queueTtlMs`). */
  readonly queueTtlMs: number;

  constructor(client: ClusterClient, name: string, options?: MutexOptions) {
    const o = resolveLeaseOptions(options);
    super(client, name, o, (n) => new LockKeys(o.keyPrefix, 'mutex', n), options?.fair ? 'all' : 'one');
    this.fair = Mutex.#flag(options?.fair);
    this.queueTtlMs = options?.queueTtlMs ?? Math.max(2000, 3 * o.retryDelayMs);
    positiveInt({ queueTtlMs: this.queueTtlMs }, 'queueTtlMs');
  }

  static #flag(v: unknown): boolean {
    if (v !== undefined && typeof v !== 'boolean') throw new InvalidArgumentError('fair', `expected a boolean, got ${describe(v)}`);
    return v === true;
  }

  protected spec(): GrantSpec {
    const k = this.keys;
    const queue = [k.key('queue'), k.key('queue-ttl')];
    return {
      script: this.runtime.scripts.mutexAcquire,
      keys: [k.base, k.key('fence'), ...queue],
      args: (owner, leaseMs) => [owner, leaseMs, this.fair ? '1' : '0', this.queueTtlMs],
      grantKey: k.base,
      kind: 'h',
      ...(this.fair ? { onGiveUp: async (owner: string) => void (await this.runtime.scripts.leaveQueue.run(queue, [owner, k.channel])) } : {}),
    };
  }

  /** The current state on the server: who holds it (no owner ids, just whether), for how long, which token. */
  async inspect(): Promise<{
    /** Whether anyone holds it. */
    held: boolean;
    /** Lease left on the server (0 when free). */
    remainingMs: number;
    /** The current holder's fencing token, or null when free. */
    token: number | null;
    /** The highest token ever granted for this lock. */
    fence: number;
  }> {
    const [token, ttl, fence] = await Promise.all([
      this.client.hget(this.keys.base, 'token'),
      this.client.pttl(this.keys.base),
      this.client.get(this.keys.key('fence')),
    ]);
    return { held: token !== null, remainingMs: Math.max(0, Number(ttl)), token: token === null ? null : Number(token), fence: Number(fence ?? 0) };
  }
}
