import type { ClusterClient } from '../cluster-client.js';
import { LeaseLock, type GrantSpec } from './base.js';
import { InvalidArgumentError } from '../errors.js';
import { describe, LockKeys, newOwner } from './keys.js';
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
  /**
   * Reentrant: a grant held by an owner identity is granted again to the
   * same identity at once (same fencing token), and the lock stays held
   * until it was released as many times as it was granted. Another identity
   * is excluded meanwhile. The identity is `acquire({ owner })`, else the
   * `owner` option. Each grant is still its own handle with its own lease.
   * @default false
   */
  reentrant?: boolean;
  /**
   * Reentrant mode: the owner identity used when `acquire()`/`using()` are
   * given none. Everything acquiring with the same identity counts as one
   * owner — across async flows, Mutex objects and processes alike.
   * @default a random identity per Mutex object (the object is the owner)
   */
  owner?: string;
}

/** Longest owner identity accepted. */
const MAX_OWNER_LENGTH = 256;

function checkOwner(v: unknown): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_OWNER_LENGTH) {
    throw new InvalidArgumentError('owner', `expected a non-empty string of at most ${MAX_OWNER_LENGTH} characters, got ${describe(v)}`);
  }
  return v;
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
  /** Whether the same owner identity may hold it several times at once. */
  readonly reentrant: boolean;
  /** Reentrant mode: the default owner identity (undefined when not reentrant). */
  readonly owner: string | undefined;

  constructor(client: ClusterClient, name: string, options?: MutexOptions) {
    const o = resolveLeaseOptions(options);
    super(client, name, o, (n) => new LockKeys(o.keyPrefix, 'mutex', n), options?.fair ? 'all' : 'one');
    this.fair = Mutex.#flag(options?.fair, 'fair');
    this.reentrant = Mutex.#flag(options?.reentrant, 'reentrant');
    if (options?.owner !== undefined && !this.reentrant) throw new InvalidArgumentError('owner', 'an owner identity needs { reentrant: true }');
    this.owner = this.reentrant ? (options?.owner === undefined ? newOwner() : checkOwner(options.owner)) : undefined;
    this.queueTtlMs = options?.queueTtlMs ?? Math.max(2000, 3 * o.retryDelayMs);
    positiveInt({ queueTtlMs: this.queueTtlMs }, 'queueTtlMs');
  }

  static #flag(v: unknown, what: string): boolean {
    if (v !== undefined && typeof v !== 'boolean') throw new InvalidArgumentError(what, `expected a boolean, got ${describe(v)}`);
    return v === true;
  }

  /** Reentrant: the identity asked for, else the Mutex's `owner`; otherwise refuses any (base class). */
  protected override identityFor(requested: unknown): string | undefined {
    if (!this.reentrant) return super.identityFor(requested);
    return requested === undefined ? this.owner : checkOwner(requested);
  }

  protected spec(identity?: string): GrantSpec {
    const k = this.keys;
    const queue = [k.key('queue'), k.key('queue-ttl')];
    return {
      script: this.runtime.scripts.mutexAcquire,
      keys: [k.base, k.key('fence'), ...queue],
      args: (owner, leaseMs) => [owner, leaseMs, this.fair ? '1' : '0', this.queueTtlMs, identity ?? ''],
      grantKey: k.base,
      kind: identity === undefined ? 'h' : 'r',
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
