import { backoffMs as retryBackoffMs } from '../core/retry.js';
import { JobLostError } from '../errors.js';

/** Processes one job; its resolved value is the job's result. Throw (an Error) to fail the delivery. */
export type JobHandler<T, R = unknown> = (job: Job<T>) => R | Promise<R>;

/** One delivery of a job, as a handler sees it. */
export class Job<T = unknown> {
  /** The job's id, unique in its queue. */
  readonly id: string;
  /** The payload given to `add()`. */
  readonly data: T;
  /** 1 for the first delivery; each failure or stall before this one adds 1. */
  readonly attempt: number;
  /** Partition the job lives in. */
  readonly partition: number;
  /** Stream entry of this delivery. */
  readonly entryId: string;
  readonly #abort = new AbortController();
  readonly #heartbeat: () => Promise<boolean>;

  /** @internal Created by the worker. */
  constructor(init: { id: string; data: T; attempt: number; partition: number; entryId: string; heartbeat: () => Promise<boolean> }) {
    this.id = init.id;
    this.data = init.data;
    this.attempt = init.attempt;
    this.partition = init.partition;
    this.entryId = init.entryId;
    this.#heartbeat = init.heartbeat;
  }

  /**
   * Aborted when this delivery is no longer ours: another worker took it over
   * (the visibility timeout passed without a heartbeat) or the worker closed
   * without waiting for it. Its result will not count; stop work early.
   */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /**
   * Renews the visibility timeout now. The worker already does this every
   * third of `visibilityTimeoutMs` while the handler runs; call it yourself
   * only when the event loop may be blocked for long stretches.
   * Rejects with JobLostError when another worker has taken the job over.
   */
  async heartbeat(): Promise<void> {
    if (!(await this.#heartbeat())) throw this.#lost('another worker took it over');
  }

  /** @internal */
  lose(why: string): void {
    if (!this.#abort.signal.aborted) this.#abort.abort(this.#lost(why));
  }

  #lost(why: string): JobLostError {
    return new JobLostError(`Job ${this.id} (delivery ${this.entryId}) is no longer ours: ${why}`);
  }
}

/** Retry delay after the `attempt`-th failure: exponential, capped, with "equal jitter" (half fixed, half random). */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  return Math.round(retryBackoffMs(Math.max(0, attempt - 1), baseMs, maxMs, random));
}
