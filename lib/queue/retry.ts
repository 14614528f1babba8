import { setTimeout as sleep } from 'node:timers/promises';
import {
  CircuitOpenError,
  ConnectionError,
  NotReplicatedError,
  PoolError,
  RedisReplyError,
  SlotwiseError,
  TimeoutError,
  TopologyError,
} from '../errors.js';

/** Server replies that mean "the cluster is moving; the same call will work shortly". */
const TRANSIENT_REPLIES = ['MOVED', 'ASK', 'TRYAGAIN', 'CLUSTERDOWN', 'LOADING', 'READONLY', 'MASTERDOWN', 'UNBLOCKED'];

/**
 * True for failures a retry of an idempotent queue operation can outlive:
 * connection loss, failover, reshard, a full pool, a missed WAIT. Errors
 * from a dedicated connection (`withConnection`) arrive raw from ioredis.
 */
export function isTransient(err: unknown): boolean {
  if (err instanceof ConnectionError || err instanceof TopologyError || err instanceof PoolError) return true;
  if (err instanceof CircuitOpenError || err instanceof TimeoutError || err instanceof NotReplicatedError) return true;
  if (err instanceof RedisReplyError) return TRANSIENT_REPLIES.includes(err.prefix);
  if (err instanceof SlotwiseError || !(err instanceof Error)) return false;
  if (err.name === 'ReplyError') return TRANSIENT_REPLIES.includes(err.message.split(' ', 1)[0] ?? '');
  // Anything else ioredis raises on a dedicated connection is a socket problem.
  return true;
}

/**
 * Runs `fn` until it succeeds, a non-transient error occurs, or `timeoutMs`
 * passes (then the last error is thrown). Only for operations that are safe
 * to repeat. `attempt` counts from 1.
 */
export async function retryTransient<T>(timeoutMs: number, fn: (attempt: number) => Promise<T>, signal?: AbortSignal): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const left = deadline - Date.now();
      if (!isTransient(err) || left <= 0 || signal?.aborted) throw err;
      const exp = Math.min(500, 10 * 2 ** Math.min(attempt, 10));
      await sleep(Math.min(left, exp / 2 + Math.random() * (exp / 2)));
    }
  }
}
