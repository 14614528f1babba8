import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { ConnectionError, InvalidArgumentError, LockLostError } from '../errors.js';
import { checkLeaseMs } from './options.js';
import type { HelperSpan } from '../telemetry/helper-spans.js';
import type { Lease } from './lease.js';
import type { LockRuntime } from './runtime.js';
import { fencedSet, type FencedSetOptions } from './fencing.js';

/** What a handle needs from the lock that granted it. */
export interface GrantContext {
  readonly runtime: LockRuntime;
  /** The lock object (Mutex, ReadWriteLock side, Semaphore): handles are checked against it. */
  readonly lock: object;
  /** Human-readable lock name for messages. */
  readonly name: string;
  /** Identifies the lock in fence records (the lock's base key). */
  readonly fenceId: string;
  /** Sharded channel announcing releases. */
  readonly channel: string;
  /** Local waiters to wake on release: one (mutex, semaphore) or all (read-write). */
  readonly wakeMode: 'one' | 'all';
  /** Deadline for a release that keeps failing on connection errors. */
  readonly releaseTimeoutMs: number;
  onLost(handle: LockHandle, error: LockLostError): void;
}

type State = 'held' | 'released' | 'lost';

/** Events of a {@link LockHandle}. */
export interface LockHandleEvents {
  /** The lease was lost before release (renewal failed, or it expired); emitted once. */
  lost: [error: LockLostError];
}

/**
 * One grant of a lock. Release it exactly once (`release()`, `await using`,
 * or let `lock.using()` do it); until then `signal` stays un-aborted unless
 * the lease is lost.
 */
export class LockHandle extends EventEmitter<LockHandleEvents> implements AsyncDisposable {
  /** Name of the lock. */
  readonly name: string;
  /**
   * Fencing token of this grant: strictly greater than every token granted
   * before by the same lock (same name, kind and key prefix). Pass it with
   * writes (`fencedSet`, `fenced()` scripts) so stale holders are refused.
   */
  readonly token: number;
  /** Server time of the grant, in microseconds since the epoch (TIME in the grant script). */
  readonly acquiredAtUs: number;
  /** Server time of the release (µs), once released. */
  releasedAtUs: number | undefined;
  readonly #ctx: GrantContext;
  readonly #lease: Lease;
  readonly #ac = new AbortController();
  #state: State = 'held';
  #lostError: LockLostError | undefined;
  #release: Promise<boolean> | undefined;
  #hold: HelperSpan | undefined;

  /** @internal Created by the locks; the lease must already be confirmed. */
  constructor(ctx: GrantContext, lease: Lease, token: number, acquiredAtUs: number) {
    super();
    this.#ctx = ctx;
    this.#lease = lease;
    this.name = ctx.name;
    this.token = token;
    this.acquiredAtUs = acquiredAtUs;
    lease.onLost = (reason, cause) => this.#lose(reason === 'expired'
      ? `Lock "${this.name}" was lost: its lease ran out before a renewal was confirmed`
      : `Lock "${this.name}" was lost: the server no longer has this grant (it expired or was taken over)`, cause);
    ctx.runtime.watchdog.add(lease);
  }

  /** @internal The `lock hold` span, ended at release (or with the error at loss). */
  traceHold(span: HelperSpan | undefined): void {
    this.#hold = span;
  }

  /** Fires (once) when the lease is lost; its `reason` is the LockLostError. */
  get signal(): AbortSignal {
    return this.#ac.signal;
  }

  /** The lock object that granted this handle. */
  get lock(): object {
    return this.#ctx.lock;
  }

  /** True while the grant is held and its lease is certainly valid. */
  get held(): boolean {
    return this.#state === 'held' && this.#lease.remainingMs() > 0;
  }

  /** Set once the lease was lost. */
  get lostError(): LockLostError | undefined {
    return this.#lostError;
  }

  /** Milliseconds the grant is certainly still valid (local monotonic clock, drift allowed for). */
  get remainingMs(): number {
    return this.#state === 'held' ? this.#lease.remainingMs() : 0;
  }

  /** Length of the lease the grant is renewed to. */
  get leaseMs(): number {
    return this.#lease.leaseMs;
  }

  /** True while the watchdog renews this grant. */
  get autoExtending(): boolean {
    return this.#lease.autoExtend;
  }

  /** Starts (or stops) renewing the lease in the background until release. */
  autoExtend(on = true): this {
    if (this.#state === 'held') {
      const l = this.#lease;
      l.autoExtend = on;
      // Renew at the next tick: the lease may already be partly used up.
      l.renewAt = on ? performance.now() : Infinity;
      this.#ctx.runtime.watchdog.changed(l);
    }
    return this;
  }

  /**
   * Resets the lease to `ms` from now, if this grant still holds it. Throws
   * LockLostError (and nothing changes on the server) when it does not.
   */
  async extend(ms: number = this.#lease.leaseMs): Promise<void> {
    const leaseMs = checkLeaseMs(ms, 'extend ms');
    if (this.#state === 'released') throw new LockLostError(`Lock "${this.name}" was already released; it cannot be extended`);
    if (this.#state === 'lost') throw new LockLostError(`Lock "${this.name}" was lost; it cannot be extended`, { cause: this.#lostError });
    const l = this.#lease;
    const sentAt = performance.now();
    const reply = (await this.#ctx.runtime.scripts.extend.run([l.key], [l.kind, l.owner, leaseMs])) as number[];
    if (Number(reply[0]) !== 1) {
      this.#lose(`Lock "${this.name}" was lost: the server no longer has this grant (it expired or was taken over)`);
      throw this.#lostError!;
    }
    if (this.#state !== 'held') return;
    l.confirmed(sentAt, leaseMs);
    this.#ctx.runtime.watchdog.changed(l);
  }

  /**
   * Releases the grant. Resolves true when it was released by this call,
   * false when the lease had already expired (someone else may hold the lock
   * now — their grant is never touched). Idempotent: later calls return the
   * first call's answer.
   */
  release(): Promise<boolean> {
    this.#release ??= this.#doRelease();
    return this.#release;
  }

  async #doRelease(): Promise<boolean> {
    const ctx = this.#ctx;
    const l = this.#lease;
    ctx.runtime.watchdog.delete(l);
    const deadline = Date.now() + ctx.releaseTimeoutMs;
    let reply: [number, number];
    for (;;) {
      try {
        reply = (await ctx.runtime.scripts.release.run([l.key], [l.kind, l.owner, ctx.channel])) as [number, number];
        break;
      } catch (err) {
        // Owner-checked: sending it again can only release our own grant.
        if (err instanceof ConnectionError && Date.now() < deadline) continue;
        this.#release = undefined;
        if (this.#state === 'held') ctx.runtime.watchdog.add(l);
        throw err;
      }
    }
    const released = Number(reply[0]) === 1;
    this.releasedAtUs = Number(reply[1]);
    if (!released) this.#lose(`Lock "${this.name}" had expired before it was released`);
    this.#state = 'released';
    this.#hold?.end();
    this.#hold = undefined;
    ctx.runtime.waker.notify(ctx.channel, ctx.wakeMode);
    return released;
  }

  /** What fenced writes need: this grant's token and the lock it belongs to (see `fenced()`). */
  get fence(): {
    /** This grant's fencing token. */
    readonly token: number;
    /** Which lock the token belongs to. */
    readonly lock: string;
  } {
    return { token: this.token, lock: this.#ctx.fenceId };
  }

  /** Writes `value` at `key` only if no newer grant of this lock has written there (see `fencedSet`). */
  fencedSet(key: string, value: string | Buffer | number, options: FencedSetOptions = {}): Promise<void> {
    return fencedSet(this.#ctx.runtime.client, { key, value, token: this.token, lock: this.#ctx.fenceId, ...options });
  }

  /** `await using handle = …` releases the lock at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }

  /** @internal Checks that `lock` granted this handle. */
  static own(handle: unknown, lock: object, what: string): LockHandle {
    if (!(handle instanceof LockHandle)) throw new InvalidArgumentError('handle', `expected a LockHandle returned by ${what}.acquire(), got ${typeof handle}`);
    if (handle.#ctx.lock !== lock) {
      throw new InvalidArgumentError('handle', `the handle of lock "${handle.name}" was granted by another lock object (another client, name or kind); release it with the lock that granted it`);
    }
    return handle;
  }

  #lose(message: string, cause?: unknown): void {
    if (this.#state !== 'held') return;
    this.#state = 'lost';
    this.#ctx.runtime.watchdog.delete(this.#lease);
    const error = new LockLostError(message, cause === undefined ? {} : { cause });
    this.#lostError = error;
    this.#hold?.end(error);
    this.#hold = undefined;
    this.#ac.abort(error);
    this.emit('lost', error);
    this.#ctx.onLost(this, error);
  }
}
