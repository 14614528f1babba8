import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { ClusterClient } from '../cluster-client.js';
import { checkClient } from '../check-client.js';
import { InvalidArgumentError, LockLostError } from '../errors.js';
import type { Script } from '../scripts/script.js';
import { helperMetrics } from '../telemetry/helper-metrics.js';
import { helperSpan } from '../telemetry/helper-spans.js';
import { grantLoop } from './acquire-loop.js';
import { LockHandle, type GrantContext } from './handle.js';
import { checkName, describe, newOwner, type LockKeys } from './keys.js';
import { Lease, type GrantKind } from './lease.js';
import { resolveAcquire, type AcquireOptions, type ResolvedLeaseOptions } from './options.js';
import { grantReplicated } from './replication.js';
import { lockRuntime, type LockRuntime } from './runtime.js';
import { parseGrant } from './scripts.js';

/** Events of every lock object. */
export interface LockEvents {
  /** A grant of this lock lost its lease before it was released. */
  lost: [handle: LockHandle, error: LockLostError];
}

/** How one kind of lock grants: its script, keys and arguments. */
export interface GrantSpec {
  readonly script: Script;
  readonly keys: readonly string[];
  /** `owner`: this acquisition's id; `identity`: the reentrant owner identity, if any. */
  args(owner: string, leaseMs: number, identity: string | undefined): (string | number)[];
  /** Where the grant lives: a hash with an owner ('h') or a holders zset ('z'). */
  readonly grantKey: string;
  readonly kind: GrantKind;
  /** Extra clean-up when a wait ends without a grant (e.g. leave a fair queue). */
  onGiveUp?(owner: string): Promise<void>;
}

/** What `using()` needs of a grant: a LockHandle or a RedlockHandle. */
interface HeldGrant {
  readonly signal: AbortSignal;
  readonly lostError: LockLostError | undefined;
  release(): Promise<boolean>;
}

/**
 * The body of every `using()`: runs `fn` on a fresh grant and always
 * releases it; a grant lost meanwhile turns even a success into its
 * LockLostError, since the work may have overlapped another holder's.
 */
export async function runHolding<H extends HeldGrant, T>(handle: H, fn: (signal: AbortSignal, handle: H) => Promise<T> | T): Promise<T> {
  let result: T;
  try {
    result = await fn(handle.signal, handle);
  } finally {
    await handle.release().catch(() => false);
  }
  if (handle.lostError) throw handle.lostError;
  return result;
}

/**
 * What Mutex, the sides of a ReadWriteLock and Semaphore share: the wait
 * loop, replica acknowledgement, handles watched by the client's watchdog,
 * `using()`.
 */
export abstract class LeaseLock extends EventEmitter<LockEvents> {
  /** The lock's name (without prefix or braces). */
  readonly name: string;
  /** The client the lock lives on. */
  readonly client: ClusterClient;
  /** The options in force, defaults filled in. */
  readonly options: ResolvedLeaseOptions;
  /** The lock's keys, all in one slot. */
  readonly keys: LockKeys;
  protected readonly runtime: LockRuntime;
  readonly #ctx: GrantContext;

  protected constructor(client: unknown, name: unknown, options: ResolvedLeaseOptions, keys: (name: string) => LockKeys, wakeMode: 'one' | 'all', displayName?: string) {
    super();
    this.client = checkClient(client);
    this.name = checkName(name);
    this.options = options;
    this.keys = keys(this.name);
    this.runtime = lockRuntime(this.client);
    this.#ctx = {
      runtime: this.runtime,
      lock: this,
      name: displayName ?? this.name,
      fenceId: this.keys.base,
      channel: this.keys.channel,
      wakeMode,
      releaseTimeoutMs: this.client.options.commandTimeoutMs,
      onLost: (handle, error) => this.emit('lost', handle, error),
    };
  }

  /** The grant recipe of this lock kind (`identity`: the reentrant owner, if any). */
  protected abstract spec(identity: string | undefined): GrantSpec;

  /**
   * The owner identity of one acquisition: only reentrant locks take one,
   * so here an `owner` option is refused before anything is sent.
   */
  protected identityFor(requested: unknown): string | undefined {
    if (requested !== undefined) {
      throw new InvalidArgumentError('owner', `only a Mutex created with { reentrant: true } takes an owner identity; ${this.constructor.name} "${this.name}" does not`);
    }
    return undefined;
  }

  /**
   * Waits for the lock (up to `waitMs`) and returns its handle. Rejects with
   * LockNotAcquiredError (someone else holds it; `remainingMs` says how long
   * their lease runs), LockNotReplicatedError (`replicaAck` not reached),
   * the signal's reason when aborted, or the ConnectionError/TimeoutError
   * that kept the cluster from answering.
   */
  async acquire(options?: AcquireOptions): Promise<LockHandle> {
    const { waitMs, signal } = resolveAcquire(options, this.options.waitMs);
    return this.grant(waitMs, signal, this.options.autoExtend, this.identityFor(options?.owner));
  }

  /**
   * One try: the handle, or null when someone else holds the lock.
   * Connection problems still throw. `owner`: see AcquireOptions.
   */
  async tryAcquire(options?: Pick<AcquireOptions, 'owner'>): Promise<LockHandle | null> {
    const identity = this.identityFor(options?.owner);
    try {
      return await this.grant(0, undefined, this.options.autoExtend, identity);
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_SLOTWISE_LOCK_NOT_ACQUIRED') return null;
      throw err;
    }
  }

  /** Releases a handle this lock granted (same as `handle.release()`). */
  async release(handle: LockHandle): Promise<boolean> {
    return LockHandle.own(handle, this, this.constructor.name).release();
  }

  /** Extends a handle this lock granted (same as `handle.extend(ms)`). */
  async extend(handle: LockHandle, ms?: number): Promise<void> {
    return LockHandle.own(handle, this, this.constructor.name).extend(ms);
  }

  /**
   * Runs `fn` while holding the lock, renewing the lease in the background,
   * and releases it afterwards. `signal` aborts when the lease is lost; if
   * that happened, `using()` rejects with LockLostError even when `fn`
   * succeeded — its work may have overlapped another holder's.
   */
  async using<T>(fn: (signal: AbortSignal, handle: LockHandle) => Promise<T> | T, options?: AcquireOptions): Promise<T> {
    if (typeof fn !== 'function') throw new InvalidArgumentError('fn', `expected a function, got ${describe(fn)}`);
    const { waitMs, signal } = resolveAcquire(options, this.options.waitMs);
    return runHolding(await this.grant(waitMs, signal, true, this.identityFor(options?.owner)), fn);
  }

  protected async grant(waitMs: number, signal: AbortSignal | undefined, autoExtend: boolean, identity?: string): Promise<LockHandle> {
    const tracing = this.client.options.telemetry.tracing;
    const kind = this.constructor.name;
    // The wait, then (a sibling span, under the caller's) the hold until release or loss.
    const wait = helperSpan(tracing, 'lock acquire', { 'slotwise.lock.kind': kind, 'slotwise.lock.wait_ms': waitMs });
    const metrics = helperMetrics(this.client.options.telemetry.metrics);
    const started = metrics === undefined ? 0 : performance.now();
    let handle: LockHandle;
    try {
      handle = await (wait === undefined ? this.#grant(waitMs, signal, autoExtend, identity) : wait.within(() => this.#grant(waitMs, signal, autoExtend, identity)));
    } catch (err) {
      wait?.end(err);
      metrics?.lockWait(kind, (performance.now() - started) / 1000, err);
      throw err;
    }
    wait?.end();
    metrics?.lockWait(kind, (performance.now() - started) / 1000);
    handle.traceHold(helperSpan(tracing, 'lock hold', { 'slotwise.lock.kind': kind, 'slotwise.lock.token': handle.token }));
    return handle;
  }

  async #grant(waitMs: number, signal: AbortSignal | undefined, autoExtend: boolean, identity?: string): Promise<LockHandle> {
    const spec = this.spec(identity);
    const o = this.options;
    const owner = newOwner();
    const args = spec.args(owner, o.leaseMs, identity);
    const attempt = o.replicaAck > 0
      ? () => grantReplicated({
          runtime: this.runtime, name: this.name, script: spec.script, keys: spec.keys, args,
          grantKey: spec.grantKey, kind: spec.kind, owner, channel: this.keys.channel,
          replicas: o.replicaAck, timeoutMs: o.replicaAckTimeoutMs,
        })
      : async () => parseGrant(await spec.script.run(spec.keys, args));
    const got = await grantLoop({
      name: this.name,
      waker: this.runtime.waker,
      channel: this.keys.channel,
      wakeMode: this.#ctx.wakeMode,
      waitMs,
      signal,
      retryDelayMs: o.retryDelayMs,
      errorBudgetMs: this.client.options.commandTimeoutMs,
      attempt,
      cleanup: async (maybeGranted) => {
        // Leave nothing behind: a grant whose reply was lost, a place in a queue.
        const jobs: Promise<unknown>[] = [];
        if (maybeGranted) jobs.push(this.runtime.scripts.release.run([spec.grantKey], [spec.kind, owner, this.keys.channel]));
        if (spec.onGiveUp) jobs.push(spec.onGiveUp(owner));
        await Promise.allSettled(jobs);
      },
    });
    const lease = new Lease({
      key: spec.grantKey, slot: this.keys.slot, kind: spec.kind, owner, leaseMs: o.leaseMs,
      driftFactor: o.driftFactor, renewRatio: o.renewRatio, autoExtend,
    });
    lease.confirmed(got.sentAt);
    return new LockHandle(this.#ctx, lease, got.token, got.grantedAtUs);
  }
}
