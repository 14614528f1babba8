import { InvalidArgumentError } from '../errors.js';
import { checkPrefix, describe } from './keys.js';

/** Options shared by every lock kind (Mutex, ReadWriteLock, Semaphore). */
export interface LeaseOptions {
  /**
   * How long a grant is valid on the server unless renewed (ms). A holder
   * that crashes keeps others waiting at most this long.
   * @default 10000
   */
  leaseMs?: number;
  /**
   * Keep renewing every grant in the background (the watchdog) until it is
   * released. `using()` always renews, whatever this says.
   * @default false
   */
  autoExtend?: boolean;
  /**
   * The watchdog renews a lease once this share of it has elapsed (so with
   * 1/3 a 30 s lease is renewed every 10 s, leaving two more tries).
   * @default 1/3
   */
  renewRatio?: number;
  /**
   * Allowance for the difference between this machine's clock rate and the
   * server's, as a share of the lease: a grant is considered valid locally
   * until `lease × (1 − driftFactor) − 2 ms` after the request was sent.
   * @default 0.01
   */
  driftFactor?: number;
  /** Default time `acquire()` waits for the lock (ms); 0 = one try. @default 10000 */
  waitMs?: number;
  /**
   * Longest gap between two tries while waiting (ms). Waiters are woken
   * early when the lock is released; this bounds the wait when that wake-up
   * is missed. The actual gap is jittered and never longer than the
   * holder's remaining lease.
   * @default 250
   */
  retryDelayMs?: number;
  /** Prefix of every key (no braces). @default 'slotwise:' */
  keyPrefix?: string;
  /**
   * Before a grant is returned, wait until this many replicas acknowledged it
   * (WAIT on the connection that wrote it). A grant not acknowledged in time
   * is released and `LockNotReplicatedError` is thrown. 0 = do not wait.
   * @default 0
   */
  replicaAck?: number;
  /** How long the WAIT for `replicaAck` replicas may take (ms). @default 1000 */
  replicaAckTimeoutMs?: number;
}

/** LeaseOptions with every default filled in (`lock.options`). */
export type ResolvedLeaseOptions = Readonly<Required<LeaseOptions>>;

/** The default of every LeaseOptions field. */
export const LEASE_DEFAULTS = {
  leaseMs: 10_000,
  autoExtend: false,
  renewRatio: 1 / 3,
  driftFactor: 0.01,
  waitMs: 10_000,
  retryDelayMs: 250,
  keyPrefix: 'slotwise:',
  replicaAck: 0,
  replicaAckTimeoutMs: 1000,
} as const satisfies Required<LeaseOptions>;

/** Merges `opts` over `defaults`, validates every field and freezes the result. */
export function resolveLeaseOptions<T extends LeaseOptions>(opts: T | undefined, extra: Record<string, unknown> = {}): ResolvedLeaseOptions & Omit<Required<T>, keyof LeaseOptions> {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) {
    throw new InvalidArgumentError('options', `expected an object, got ${describe(opts)}`);
  }
  const o = { ...LEASE_DEFAULTS, ...extra, ...stripUndefined(opts ?? {}) } as Record<string, unknown>;
  positiveInt(o, 'leaseMs');
  if (typeof o.autoExtend !== 'boolean') throw new InvalidArgumentError('autoExtend', `expected a boolean, got ${describe(o.autoExtend)}`);
  ratio(o, 'renewRatio', 0.05, 0.9);
  ratio(o, 'driftFactor', 0, 0.5);
  nonNegative(o, 'waitMs', true);
  positiveInt(o, 'retryDelayMs');
  checkPrefix(o.keyPrefix);
  nonNegative(o, 'replicaAck');
  positiveInt(o, 'replicaAckTimeoutMs');
  if (!Number.isInteger(o.replicaAck)) throw new InvalidArgumentError('replicaAck', `expected an integer ≥ 0, got ${describe(o.replicaAck)}`);
  return Object.freeze(o) as never;
}

export function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function positiveInt(o: Record<string, unknown>, key: string, what = key): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new InvalidArgumentError(what, `expected a positive integer (ms), got ${describe(v)}`);
  }
  return v;
}

export function nonNegative(o: Record<string, unknown>, key: string, allowInfinity = false, what = key): number {
  const v = o[key];
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0 || (!allowInfinity && !Number.isFinite(v))) {
    throw new InvalidArgumentError(what, `expected a number ≥ 0${allowInfinity ? ' (or Infinity)' : ''}, got ${describe(v)}`);
  }
  return v;
}

function ratio(o: Record<string, unknown>, key: string, min: number, max: number): void {
  const v = o[key];
  if (typeof v !== 'number' || !(v >= min && v <= max)) {
    throw new InvalidArgumentError(key, `expected a number from ${min} to ${max}, got ${describe(v)}`);
  }
}

/** Per-call options of `acquire()`. */
export interface AcquireOptions {
  /** How long to wait for the lock (ms); 0 = one try. @default the lock's `waitMs` */
  waitMs?: number;
  /** Gives up waiting when aborted (rejects with the signal's reason). @default undefined */
  signal?: AbortSignal;
  /**
   * Reentrant Mutex only (`{ reentrant: true }`): the owner identity of this
   * acquisition. A grant held by the same identity is granted again at once
   * (same token), and the lock stays held until every such grant was
   * released. Any other lock kind refuses it with InvalidArgumentError.
   * @default the Mutex's `owner` option
   */
  owner?: string;
}

/** Validates per-call acquire options; returns the wait budget. */
export function resolveAcquire(opts: AcquireOptions | undefined, defaultWaitMs: number): { waitMs: number; signal: AbortSignal | undefined } {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) {
    throw new InvalidArgumentError('acquire options', `expected an object, got ${describe(opts)}`);
  }
  const waitMs = opts?.waitMs ?? defaultWaitMs;
  nonNegative({ waitMs }, 'waitMs', true);
  const signal = opts?.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError('signal', `expected an AbortSignal, got ${describe(signal)}`);
  }
  return { waitMs, signal };
}

/** Validates a lease length given to `extend()`. */
export function checkLeaseMs(ms: unknown, what = 'leaseMs'): number {
  return positiveInt({ v: ms }, 'v', what);
}
