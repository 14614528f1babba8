import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { backoffMs, isTransient, jitter } from '../core/retry.js';
import { LockNotAcquiredError } from '../errors.js';
import type { GrantReply } from './scripts.js';
import type { Waker } from './waker.js';

const ERROR_BASE_DELAY_MS = 10;
const ERROR_MAX_DELAY_MS = 250;

/**
 * True for errors after which trying the grant again is safe and useful.
 * Safe because every grant script re-grants to the same owner; useful because
 * the router gave up on them only for lack of a retry rule (a maybe-sent
 * script, a dedicated connection that does not follow redirects).
 */
export function isRetryableGrantError(err: unknown): boolean {
  return isTransient(err);
}

export interface GrantLoop {
  readonly name: string;
  readonly waker: Waker;
  readonly channel: string;
  /** Waiters woken per release announcement: 'one' when only one can win. */
  readonly wakeMode: 'one' | 'all';
  readonly waitMs: number;
  readonly signal: AbortSignal | undefined;
  readonly retryDelayMs: number;
  /** How long connection trouble is retried when the wait budget is shorter. */
  readonly errorBudgetMs: number;
  attempt(): Promise<GrantReply>;
  /**
   * Called once when the loop gives up (not granted, error or abort).
   * `maybeGranted`: the last attempt failed in a way that may have granted.
   */
  cleanup(maybeGranted: boolean): Promise<void>;
}

/** The successful attempt, with when it was sent (monotonic ms) for the lease's local validity. */
export type Granted = GrantReply & { readonly sentAt: number };

/**
 * Tries to grant until granted, `waitMs` runs out (LockNotAcquiredError
 * carrying the holder's remaining lease) or `signal` aborts (its reason).
 * Between tries it parks on the waker: woken by a release, or after the
 * holder's remaining lease / `retryDelayMs` (whichever is shorter, jittered
 * down to half so that waiters spread out).
 */
export async function grantLoop(p: GrantLoop): Promise<Granted> {
  const start = performance.now();
  const deadline = start + p.waitMs;
  const errorDeadline = Math.max(deadline, start + p.errorBudgetMs);
  let errors = 0;
  for (;;) {
    if (p.signal?.aborted) {
      await p.cleanup(false);
      throw p.signal.reason;
    }
    const sentAt = performance.now();
    let r: GrantReply;
    try {
      r = await p.attempt();
    } catch (err) {
      if (isRetryableGrantError(err) && performance.now() < errorDeadline) {
        await delay(backoffMs(errors++, ERROR_BASE_DELAY_MS, ERROR_MAX_DELAY_MS));
        continue;
      }
      await p.cleanup(true);
      throw err;
    }
    errors = 0;
    if (r.granted) return { ...r, sentAt };
    const left = deadline - performance.now();
    if (left <= 0) {
      await p.cleanup(false);
      throw new LockNotAcquiredError(p.name, r.remainingMs);
    }
    const gap = r.remainingMs > 0 ? Math.min(r.remainingMs, p.retryDelayMs) : p.retryDelayMs;
    await p.waker.wait(p.channel, Math.min(left, jitter(gap)), p.signal, p.wakeMode);
  }
}
