import { CircuitOpenError, ConnectionError, PoolError, SlotwiseError, TopologyError } from '../errors.js';
import { classify, isTransientReply } from './classify.js';

/**
 * The one retry policy of slotwise: which failures are worth another attempt
 * (`isTransient`), how long to wait between attempts (`backoffMs`, `jitter`)
 * and the single deadline an operation keeps across all of them (`Deadline`).
 * The executor, transactions, locks, queues, workers and pub/sub all take
 * their waits from here, so a change of policy is made once.
 */

/**
 * `ms` with "equal jitter": half fixed, half random. Clients that failed
 * together (a failover, a release announcement) spread out instead of
 * retrying in lockstep, yet none waits less than half the step.
 */
export function jitter(ms: number, random: () => number = Math.random): number {
  return ms / 2 + random() * (ms / 2);
}

/**
 * The wait before retry number `retry` (0 for the first retry): exponential
 * from `baseMs`, capped at `maxMs`, jittered (see `jitter`).
 */
export function backoffMs(retry: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  return jitter(Math.min(maxMs, baseMs * 2 ** retry), random);
}

/** One deadline for an operation across all its attempts (wall clock ms). */
export class Deadline {
  /** `Date.now()` at which it passes. */
  readonly at: number;

  constructor(ms: number, now: number = Date.now()) {
    this.at = now + ms;
  }

  /** Milliseconds left (≤ 0 once passed). */
  get remainingMs(): number {
    return this.at - Date.now();
  }

  get passed(): boolean {
    return Date.now() >= this.at;
  }

  /** `ms`, never past the deadline and never negative. */
  clamp(ms: number): number {
    return Math.max(0, Math.min(ms, this.at - Date.now()));
  }
}

/**
 * True for failures the cluster gets out of by itself, so that the same
 * operation, tried again at the slot's owner, can succeed: a redirect, a
 * transient state (TRYAGAIN, CLUSTERDOWN, LOADING, MASTERDOWN, READONLY,
 * UNBLOCKED — raw or as RedisReplyError), a lost connection, an open
 * breaker, a slot no master serves right now, an exhausted pool. Whether a
 * retry is also SAFE (the operation may have run) is the caller's question.
 */
export function isTransient(err: unknown): boolean {
  if (err instanceof ConnectionError || err instanceof CircuitOpenError) return true;
  if (err instanceof TopologyError || err instanceof PoolError) return true;
  if (isTransientReply(err)) return true;
  if (err instanceof SlotwiseError) return false;
  const kind = classify(err).kind;
  return kind === 'connection' || kind === 'breaker';
}
