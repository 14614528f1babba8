import type { ClusterClient } from '../cluster-client.js';
import { InvalidArgumentError } from '../errors.js';
import { LeaseLock, type GrantSpec } from './base.js';
import { describe, LockKeys } from './keys.js';
import { resolveLeaseOptions, type LeaseOptions } from './options.js';

/** Options of `new Semaphore(client, name, options)`. */
export interface SemaphoreOptions extends LeaseOptions {
  /**
   * How many holders at once. Every client of one semaphore must use the
   * same number: it travels with each request, it is not stored.
   */
  permits: number;
}

/**
 * A counting semaphore whose permits expire: each permit is a lease, so a
 * holder that crashes gives its permit back after `leaseMs` (or keep it
 * with the watchdog: `autoExtend`, `using()`). Permits are not queued
 * fairly. Every grant carries a fencing token.
 */
export class Semaphore extends LeaseLock {
  /** How many holders the semaphore admits at once. */
  readonly permits: number;

  constructor(client: ClusterClient, name: string, options: SemaphoreOptions) {
    const permits = options?.permits;
    if (typeof permits !== 'number' || !Number.isInteger(permits) || permits < 1) {
      throw new InvalidArgumentError('permits', `expected an integer ≥ 1, got ${describe(permits)}`);
    }
    const o = resolveLeaseOptions(options);
    super(client, name, o, (n) => new LockKeys(o.keyPrefix, 'semaphore', n), 'one');
    this.permits = permits;
  }

  protected spec(): GrantSpec {
    const k = this.keys;
    return {
      script: this.runtime.scripts.semaphoreAcquire,
      keys: [k.key('holders'), k.key('fence')],
      args: (owner, leaseMs) => [owner, leaseMs, this.permits],
      grantKey: k.key('holders'),
      kind: 'z',
    };
  }

  /** Permits currently out (live leases only), from the server. */
  async used(): Promise<number> {
    const now = Number((await this.client.time())[0]) * 1000;
    // Whole-second server time: a permit expiring within the current second may still count.
    return Number(await this.client.zcount(this.keys.key('holders'), `(${now}`, '+inf'));
  }
}
