import type { ClusterClient } from '../cluster-client.js';
import { LeaseLock, type GrantSpec } from './base.js';
import { checkName, LockKeys } from './keys.js';
import { positiveInt, resolveLeaseOptions, type LeaseOptions, type ResolvedLeaseOptions } from './options.js';

/** Options of `new ReadWriteLock(client, name, options)`. */
export interface ReadWriteLockOptions extends LeaseOptions {
  /**
   * How long a waiting writer's claim blocks new readers without being
   * renewed (ms); the writer renews it on every try.
   * @default 3 × retryDelayMs, at least 2000
   */
  writerIntentTtlMs?: number;
}

/** One side of a ReadWriteLock: a lock object of its own (acquire, using, …). */
export class ReadWriteSide extends LeaseLock {
  /** Which side this is: shared readers or the exclusive writer. */
  readonly mode: 'read' | 'write';
  readonly #intentTtlMs: number;

  /** @internal Use `new ReadWriteLock(…).readLock` / `.writeLock`. */
  constructor(client: ClusterClient, name: string, mode: 'read' | 'write', o: ResolvedLeaseOptions, intentTtlMs: number) {
    super(client, name, o, (n) => new LockKeys(o.keyPrefix, 'rwlock', n), 'all', `${name} (${mode})`);
    this.mode = mode;
    this.#intentTtlMs = intentTtlMs;
  }

  protected spec(): GrantSpec {
    const k = this.keys;
    const read = this.mode === 'read';
    return {
      script: this.runtime.scripts.rwAcquire,
      keys: [k.key('writer'), k.key('readers'), k.key('intent'), k.key('fence')],
      args: (owner, leaseMs) => [read ? 'r' : 'w', owner, leaseMs, this.#intentTtlMs],
      grantKey: read ? k.key('readers') : k.key('writer'),
      kind: read ? 'z' : 'h',
      ...(read ? {} : { onGiveUp: async (owner: string) => void (await this.runtime.scripts.deleteIfOwner.run([k.key('intent')], [owner])) }),
    };
  }
}

/**
 * A read-write lock: any number of readers, or one writer. A waiting writer
 * stops new readers from entering, so writers are not starved. Read and
 * write grants are leases (watchdog, `using()`, fencing tokens from one
 * counter: a writer's token is greater than every earlier grant's).
 *
 * ```ts
 * const rw = new ReadWriteLock(client, 'catalog');
 * await rw.readLock.using(async () => read());
 * await rw.writeLock.using(async () => write());
 * ```
 */
export class ReadWriteLock {
  /** The lock's name (without prefix or braces). */
  readonly name: string;
  /** The shared side: any number of readers at once, none while a writer holds or waits. */
  readonly readLock: ReadWriteSide;
  /** The exclusive side: one writer, no readers. */
  readonly writeLock: ReadWriteSide;

  constructor(client: ClusterClient, name: string, options?: ReadWriteLockOptions) {
    this.name = checkName(name);
    const o = resolveLeaseOptions(options);
    const intent = options?.writerIntentTtlMs ?? Math.max(2000, 3 * o.retryDelayMs);
    positiveInt({ writerIntentTtlMs: intent }, 'writerIntentTtlMs');
    this.readLock = new ReadWriteSide(client, this.name, 'read', o, intent);
    this.writeLock = new ReadWriteSide(client, this.name, 'write', o, intent);
  }
}
