import { setTimeout as sleep } from 'node:timers/promises';
import { isReplyError } from '../core/classify.js';
import { backoffMs, Deadline, isTransient as isClusterTransient } from '../core/retry.js';
import { NotReplicatedError, SlotwiseError, TimeoutError } from '../errors.js';

const BASE_DELAY_MS = 10;
const MAX_DELAY_MS = 500;

/**
 * True for failures a retry of an idempotent queue operation can outlive:
 * connection loss, failover, reshard, a full pool, a missed WAIT. Errors
 * from a dedicated connection (`withConnection`) arrive raw from ioredis.
 */
export function isTransient(err: unknown): boolean {
  if (isClusterTransient(err) || err instanceof TimeoutError || err instanceof NotReplicatedError) return true;
  if (err instanceof SlotwiseError || !(err instanceof Error) || isReplyError(err)) return false;
  // Anything else ioredis raises on a dedicated connection is a socket problem.
  return true;
}

/**
 * Runs `fn` until it succeeds, a non-transient error occurs, or `timeoutMs`
 * passes (then the last error is thrown). Only for operations that are safe
 * to repeat. `attempt` counts from 1.
 */
export async function retryTransient<T>(timeoutMs: number, fn: (attempt: number) => Promise<T>, signal?: AbortSignal): Promise<T> {
  const deadline = new Deadline(timeoutMs);
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!isTransient(err) || deadline.passed || signal?.aborted) throw err;
      await sleep(deadline.clamp(backoffMs(attempt, BASE_DELAY_MS, MAX_DELAY_MS)));
    }
  }
}

/**
 * The wait of a worker read loop after its `failures`-th failed read in a
 * row (the error is reported each time); ends early when `signal` aborts.
 */
export function readBackoff(failures: number, signal: AbortSignal): Promise<void> {
  return sleep(backoffMs(failures, 20, 2000), undefined, { signal }).catch(() => undefined);
}
