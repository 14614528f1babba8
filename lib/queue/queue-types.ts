import type { Job, JobProgress } from './job.js';

/*
 * The public shapes of WorkQueue's answers and events (re-exported from
 * queue.ts), kept apart so the queue's file holds its behaviour.
 */

/** What `add` did with one job. */
export interface AddResult {
  /** The job's id (given, or generated). */
  readonly jobId: string;
  /** False when a job with this id already existed (or completed within `completedRetentionMs`). */
  readonly added: boolean;
  /** The partition the job went to. */
  readonly partition: number;
}

/** Counts from `queue.stats()`, over all partitions (and per partition). */
export interface QueueStats {
  /** In the ready streams, not yet delivered to a worker. */
  readonly waiting: number;
  /** In the delayed sets (scheduled, or waiting for a retry after a failure). */
  readonly delayed: number;
  /** Delivered to a worker and not yet acknowledged (running, or held by a dead worker until reclaimed). */
  readonly inFlight: number;
  /** In the dead-letter streams. */
  readonly dead: number;
  /** The same counts per partition, by partition index. */
  readonly partitions: readonly Omit<QueueStats, 'partitions'>[];
}

/** A dead-lettered job, from `queue.deadLetters()`. */
export interface DeadLetter<T> {
  /** The job's id. */
  readonly jobId: string;
  /** The job's payload. */
  readonly data: T;
  /** The last error, as `Name: message`. */
  readonly error: string;
  /** Deliveries used. */
  readonly attempts: number;
  /** Server time (ms) it was dead-lettered. */
  readonly failedAt: number;
  /** The partition it was in. */
  readonly partition: number;
}

/** Events of a WorkQueue. */
export interface WorkQueueEvents<T> {
  /** A delivery succeeded and completed the job. */
  completed: [job: Job<T>, result: unknown];
  /** A delivery succeeded, but the job had already been completed by another delivery (at-least-once). */
  duplicate: [job: Job<T>, result: unknown];
  /** A delivery failed; `retry` is set when another delivery is scheduled, undefined when the job went dead. */
  failed: [job: Job<T>, error: Error, retry: {
    /** Wait before the next delivery. */
    readonly delayMs: number;
    /** Number of the next delivery (1 = the first). */
    readonly attempt: number;
  } | undefined];
  /** The job used all its deliveries and moved to the dead-letter stream. */
  dead: [job: Job<T>, error: Error];
  /** A delivery whose worker stopped renewing it was taken over by this worker. */
  stalled: [info: {
    /** The job taken over. */
    readonly jobId: string;
    /** Its partition. */
    readonly partition: number;
    /** Number of the delivery this worker now runs. */
    readonly attempt: number;
  }];
  /** A job running here stored a progress report (`job.updateProgress()`). */
  progress: [job: Job<T>, progress: JobProgress];
  /** A background problem (a read, promotion or ack that failed and will be retried). Emitted only while someone listens. */
  error: [error: Error];
}
