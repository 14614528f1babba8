import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { ClusterClient } from '../cluster-client.js';
import { jitter } from '../core/retry.js';
import { InvalidArgumentError, LockLostError, LockNotAcquiredError, LockQuorumError, type QuorumInstanceOutcome } from '../errors.js';
import { checkClient } from '../check-client.js';
import { helperMetrics } from '../telemetry/helper-metrics.js';
import { runHolding } from './base.js';
import { checkName, describe, LockKeys, newOwner } from './keys.js';
import { checkLeaseMs, positiveInt, resolveAcquire, resolveLeaseOptions, type AcquireOptions, type LeaseOptions } from './options.js';
import { lockRuntime } from './runtime.js';
import { parseGrant } from './scripts.js';

/** Options of `new Redlock(clients, name, options)`. */
export interface RedlockOptions extends Omit<LeaseOptions, 'replicaAck' | 'replicaAckTimeoutMs'> {
  /**
   * Deadline of one instance's answer (ms). Keep it far below `leaseMs`:
   * time spent waiting for a dead instance is lease lost on the live ones.
   * @default leaseMs / 10, between 50 and 1000
   */
  instanceTimeoutMs?: number;
}

/**
 * Redlock: one lock over N independent Redis deployments (separate clusters
 * or masters, each reached through its own ClusterClient), granted when a
 * majority grants it within the lease. Survives the loss of a minority of
 * instances without replication. Opt-in, with caveats — read
 * docs/04-locks.md: it depends on bounded clock drift and process pauses,
 * and it has no fencing tokens.
 */
export class Redlock {
  /** The lock's name (without prefix or braces). */
  readonly name: string;
  /** The independent instances, one client each. */
  readonly clients: readonly ClusterClient[];
  /** How many instances must grant: a majority of `clients`. */
  readonly quorum: number;
  /** The options in force, defaults filled in. */
  readonly options: ReturnType<typeof resolveLeaseOptions> & {
    /** Bound on one instance's answer to a grant or renewal. */
    readonly instanceTimeoutMs: number;
  };
  /** The lock's keys (the same names on every instance). */
  readonly keys: LockKeys;

  constructor(clients: readonly ClusterClient[], name: string, options?: RedlockOptions) {
    if (!Array.isArray(clients) || clients.length === 0) throw new InvalidArgumentError('clients', `expected a non-empty array of ClusterClient (one per independent instance), got ${describe(clients)}`);
    this.clients = Object.freeze(clients.map((c) => checkClient(c)));
    if (new Set(this.clients).size !== this.clients.length) throw new InvalidArgumentError('clients', 'the same client appears twice: each instance must be a different deployment');
    this.name = checkName(name);
    if ((options as LeaseOptions | undefined)?.replicaAck) throw new InvalidArgumentError('replicaAck', 'not supported by Redlock: its safety comes from the majority of instances, not from replicas');
    const o = resolveLeaseOptions(options);
    const instanceTimeoutMs = options?.instanceTimeoutMs ?? Math.min(1000, Math.max(50, Math.floor(o.leaseMs / 10)));
    positiveInt({ instanceTimeoutMs }, 'instanceTimeoutMs');
    if (instanceTimeoutMs >= o.leaseMs) throw new InvalidArgumentError('instanceTimeoutMs', `expected less than leaseMs (${o.leaseMs}), got ${instanceTimeoutMs}`);
    this.options = Object.freeze({ ...o, instanceTimeoutMs });
    this.quorum = Math.floor(this.clients.length / 2) + 1;
    this.keys = new LockKeys(o.keyPrefix, 'redlock', this.name);
  }

  /**
   * Waits for a majority grant. Rejects with LockNotAcquiredError when
   * holders kept it (`waitMs` passed), LockQuorumError when too many
   * instances were unreachable on the last try, or the signal's reason.
   * Partial grants are always released before it rejects.
   */
  async acquire(options?: AcquireOptions): Promise<RedlockHandle> {
    const { waitMs, signal } = resolveAcquire(options, this.options.waitMs);
    return this.#acquire(waitMs, signal, this.options.autoExtend);
  }

  /** One try: the handle, or null when held elsewhere. LockQuorumError when instances are unreachable. */
  async tryAcquire(): Promise<RedlockHandle | null> {
    try {
      return await this.#acquire(0, undefined, this.options.autoExtend);
    } catch (err) {
      if (err instanceof LockNotAcquiredError) return null;
      throw err;
    }
  }

  /** Runs `fn` under the lock with background renewal; LockLostError if it was lost meanwhile. */
  async using<T>(fn: (signal: AbortSignal, handle: RedlockHandle) => Promise<T> | T, options?: AcquireOptions): Promise<T> {
    if (typeof fn !== 'function') throw new InvalidArgumentError('fn', `expected a function, got ${describe(fn)}`);
    const { waitMs, signal } = resolveAcquire(options, this.options.waitMs);
    return runHolding(await this.#acquire(waitMs, signal, true), fn);
  }

  async #acquire(waitMs: number, signal: AbortSignal | undefined, autoExtend: boolean): Promise<RedlockHandle> {
    const metrics = helperMetrics(this.clients[0]!.options.telemetry.metrics);
    if (metrics === undefined) return this.#quorumLoop(waitMs, signal, autoExtend);
    const started = performance.now();
    try {
      const handle = await this.#quorumLoop(waitMs, signal, autoExtend);
      metrics.lockWait('Redlock', (performance.now() - started) / 1000);
      return handle;
    } catch (err) {
      metrics.lockWait('Redlock', (performance.now() - started) / 1000, err);
      throw err;
    }
  }

  async #quorumLoop(waitMs: number, signal: AbortSignal | undefined, autoExtend: boolean): Promise<RedlockHandle> {
    const deadline = performance.now() + waitMs;
    const o = this.options;
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const owner = newOwner();
      const t0 = performance.now();
      const settled = await Promise.allSettled(this.clients.map((c) => lockRuntime(c).scripts.mutexAcquire.run(
        [this.keys.base, this.keys.key('fence'), this.keys.key('queue'), this.keys.key('queue-ttl')],
        [owner, o.leaseMs, '0', 1000],
        { timeoutMs: o.instanceTimeoutMs },
      )));
      const outcomes: QuorumInstanceOutcome[] = [];
      let granted = 0;
      let remaining = 0;
      settled.forEach((s, index) => {
        if (s.status === 'rejected') {
          outcomes.push({ index, outcome: 'error', error: s.reason as Error });
          return;
        }
        const g = parseGrant(s.value);
        if (g.granted) granted++;
        else remaining = Math.max(remaining, g.remainingMs);
        outcomes.push({ index, outcome: g.granted ? 'granted' : 'held' });
      });
      // Validity counts from before the first request: the earliest any instance can have started the lease.
      const validUntil = t0 + o.leaseMs - Math.ceil(o.leaseMs * o.driftFactor) - 2;
      if (granted >= this.quorum && validUntil > performance.now()) {
        return new RedlockHandle(this, owner, validUntil, autoExtend);
      }
      await this.releaseAll(owner);
      const errors = outcomes.filter((x) => x.outcome === 'error').length;
      const left = deadline - performance.now();
      if (left <= 0) {
        if (errors > this.clients.length - this.quorum) throw new LockQuorumError(this.name, granted, this.quorum, outcomes);
        throw new LockNotAcquiredError(this.name, remaining);
      }
      const gap = remaining > 0 ? Math.min(remaining, o.retryDelayMs) : o.retryDelayMs;
      await sleep(Math.min(left, jitter(gap)), signal);
    }
  }

  /** @internal Owner-checked release on every instance; how many released a live grant. */
  async releaseAll(owner: string): Promise<number> {
    const settled = await Promise.allSettled(this.clients.map((c) => lockRuntime(c).scripts.release.run(
      [this.keys.base], ['h', owner, this.keys.channel], { timeoutMs: this.options.instanceTimeoutMs },
    )));
    return settled.filter((s) => s.status === 'fulfilled' && Number((s.value as number[])[0]) === 1).length;
  }

  /** @internal Owner-checked extend on every instance: what each answered. */
  async extendAll(owner: string, leaseMs: number): Promise<QuorumInstanceOutcome[]> {
    const settled = await Promise.allSettled(this.clients.map((c) => lockRuntime(c).scripts.extend.run(
      [this.keys.base], ['h', owner, leaseMs], { timeoutMs: this.options.instanceTimeoutMs },
    )));
    return settled.map((s, index) => s.status === 'rejected'
      ? { index, outcome: 'error', error: s.reason as Error }
      : { index, outcome: Number((s.value as number[])[0]) === 1 ? 'granted' : 'held' });
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A Redlock grant: no fencing token (N independent counters cannot give a single order). */
export class RedlockHandle extends EventEmitter<{
  /** The grant was lost (see `lostError`). */
  lost: [error: LockLostError];
}> implements AsyncDisposable {
  /** The lock's name. */
  readonly name: string;
  readonly #lock: Redlock;
  readonly #owner: string;
  readonly #ac = new AbortController();
  #validUntil: number;
  #leaseMs: number;
  #state: 'held' | 'released' | 'lost' = 'held';
  #lostError: LockLostError | undefined;
  #timer: NodeJS.Timeout | undefined;
  #release: Promise<boolean> | undefined;
  readonly #autoExtend: boolean;

  /** @internal */
  constructor(lock: Redlock, owner: string, validUntil: number, autoExtend: boolean) {
    super();
    this.name = lock.name;
    this.#lock = lock;
    this.#owner = owner;
    this.#validUntil = validUntil;
    this.#leaseMs = lock.options.leaseMs;
    this.#autoExtend = autoExtend;
    this.#plan(performance.now());
  }

  /** Aborted when the grant is lost: pass it to the work the lock protects. */
  get signal(): AbortSignal {
    return this.#ac.signal;
  }

  /** Why the grant was lost, once it was. */
  get lostError(): LockLostError | undefined {
    return this.#lostError;
  }

  /** Ms of certain validity left on a majority (monotonic clock, drift allowed for). */
  get remainingMs(): number {
    return this.#state === 'held' ? Math.max(0, Math.floor(this.#validUntil - performance.now())) : 0;
  }

  /** Whether the grant is still certainly valid on a majority. */
  get held(): boolean {
    return this.remainingMs > 0;
  }

  /**
   * Re-extends on every instance. LockLostError when a majority no longer
   * has the grant; LockQuorumError when too many instances could not be
   * reached (the grant stays valid until `remainingMs` runs out).
   */
  async extend(ms: number = this.#leaseMs): Promise<void> {
    const leaseMs = checkLeaseMs(ms, 'extend ms');
    if (this.#state !== 'held') throw new LockLostError(`Lock "${this.name}" was ${this.#state}; it cannot be extended`, this.#lostError ? { cause: this.#lostError } : {});
    const t0 = performance.now();
    const outcomes = await this.#lock.extendAll(this.#owner, leaseMs);
    const ok = outcomes.filter((o) => o.outcome === 'granted').length;
    const gone = outcomes.filter((o) => o.outcome === 'held').length;
    const { quorum, clients } = this.#lock;
    const validUntil = t0 + leaseMs - Math.ceil(leaseMs * this.#lock.options.driftFactor) - 2;
    if (gone > clients.length - quorum || (ok >= quorum && validUntil <= performance.now())) {
      this.#lose(`Lock "${this.name}" was lost: ${gone} of ${clients.length} instances no longer have the grant (quorum ${quorum})`);
      throw this.#lostError!;
    }
    if (ok < quorum) throw new LockQuorumError(this.name, ok, quorum, outcomes);
    if (this.#state !== 'held') return;
    this.#leaseMs = leaseMs;
    this.#validUntil = validUntil;
    this.#plan(t0);
  }

  /** Releases on every instance; true when a majority still had our grant. Idempotent. */
  release(): Promise<boolean> {
    this.#release ??= (async () => {
      this.#stop();
      if (this.#state === 'held') this.#state = 'released';
      return (await this.#lock.releaseAll(this.#owner)) >= this.#lock.quorum;
    })();
    return this.#release;
  }

  /** `await using handle = …` releases the grant at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }

  #stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** One timer per handle: renew at `renewRatio` of the lease (when auto-extending), declare lost at the validity end. */
  #plan(from: number): void {
    this.#stop();
    const now = performance.now();
    const renewAt = this.#autoExtend ? from + this.#leaseMs * this.#lock.options.renewRatio : Infinity;
    const at = Math.min(renewAt, this.#validUntil);
    this.#timer = setTimeout(() => {
      if (this.#state !== 'held') return;
      if (performance.now() >= this.#validUntil) {
        this.#lose(`Lock "${this.name}" was lost: its lease ran out before a renewal was confirmed by a majority`);
        return;
      }
      this.extend().catch(() => {
        // Not lost yet when validity remains (e.g. instances slow): try again soon.
        if (this.#state === 'held') this.#plan(performance.now() - this.#leaseMs * this.#lock.options.renewRatio + Math.min(250, this.#leaseMs / 10));
      });
    }, Math.max(0, Math.ceil(at - now)));
    this.#timer.unref();
  }

  #lose(message: string): void {
    if (this.#state !== 'held') return;
    this.#state = 'lost';
    this.#stop();
    this.#lostError = new LockLostError(message);
    this.#ac.abort(this.#lostError);
    this.emit('lost', this.#lostError);
  }
}
