import { backoffMs as retryBackoffMs } from '../core/retry.js';
import { describe } from '../core/describe.js';
import { InvalidArgumentError, JobLostError } from '../errors.js';

/** A job's progress: a number (e.g. percent) or a JSON-serialisable object. */
export type JobProgress = number | Readonly<Record<string, unknown>>;

/** Longest progress accepted, as JSON text. */
export const MAX_PROGRESS_CHARS = 16_384;

/** Validates a progress value; returns its JSON text. */
export function progressText(progress: unknown): string {
  if (typeof progress === 'number') {
    if (!Number.isFinite(progress)) throw new InvalidArgumentError('progress', `expected a finite number or a plain object, got ${describe(progress)}`);
    return JSON.stringify(progress);
  }
  if (typeof progress !== 'object' || progress === null || Array.isArray(progress)) {
    throw new InvalidArgumentError('progress', `expected a finite number or a plain object, got ${describe(progress)}`);
  }
  let text: string;
  try {
    text = JSON.stringify(progress);
  } catch (err) {
    throw new InvalidArgumentError('progress', `expected a JSON-serialisable object: ${(err as Error).message}`);
  }
  if (text.length > MAX_PROGRESS_CHARS) throw new InvalidArgumentError('progress', `expected at most ${MAX_PROGRESS_CHARS} characters of JSON, got ${text.length}`);
  return text;
}

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
  readonly #progress: (text: string, value: JobProgress) => Promise<boolean>;
  #lastProgress: JobProgress | undefined;

  /** @internal Created by the worker. */
  constructor(init: {
    id: string; data: T; attempt: number; partition: number; entryId: string;
    heartbeat: () => Promise<boolean>; progress: (text: string, value: JobProgress) => Promise<boolean>;
  }) {
    this.id = init.id;
    this.data = init.data;
    this.attempt = init.attempt;
    this.partition = init.partition;
    this.entryId = init.entryId;
    this.#heartbeat = init.heartbeat;
    this.#progress = init.progress;
  }

  /** The last progress this delivery reported (undefined before the first). */
  get progress(): JobProgress | undefined {
    return this.#lastProgress;
  }

  /**
   * Reports progress (a number such as a percentage, or a plain object;
   * at most 16 KiB of JSON): stored with the job, where
   * `queue.progressOf(jobId)` reads it from any process, and emitted as the
   * queue's `progress` event here. Also renews the delivery like
   * `heartbeat()`. Rejects with InvalidArgumentError (nothing written) for
   * other values, and with JobLostError when the delivery is no longer ours
   * or the job already finished.
   */
  async updateProgress(progress: JobProgress): Promise<void> {
    const text = progressText(progress);
    if (this.#abort.signal.aborted) throw this.#lost('the delivery was already given up');
    if (!(await this.#progress(text, progress))) throw this.#lost('another worker took it over, or it already finished');
    this.#lastProgress = progress;
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
