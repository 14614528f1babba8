import { MessageDecodeError, NonErrorThrownError } from '../errors.js';
import { Job, backoffDelay, type JobHandler, type JobProgress } from './job.js';
import type { PartitionKeys } from './keys.js';
import type { ResolvedQueueOptions } from './options.js';
import { isTransient, retryTransient } from './retry.js';
import { dropsDead } from './retention.js';
import type { Delivery } from './worker.js';
import { traceProcess, unwrapTrace } from './trace.js';
import type { PartitionWriter } from './writer.js';

/** What a delivery works with: its queue's name, options and writer, and the queue's close signal. */
export interface DeliveryContext<T> {
  readonly name: string;
  readonly options: ResolvedQueueOptions<T>;
  readonly writer: PartitionWriter;
  /** Aborts when the queue closes. */
  readonly closing: AbortSignal;
  /** The client's `telemetry.tracing`: run handlers in spans continuing the producer's trace. */
  readonly tracing: boolean;
  /** A running job stored a progress report. */
  onProgress?(job: Job<T>, progress: JobProgress): void;
}

/**
 * How a delivery ended, for the queue to announce (events) and act on (a
 * wake-up for a retry that is due). Undefined: released on close.
 */
export type DeliveryOutcome<T> =
  | { readonly kind: 'completed' | 'duplicate'; readonly job: Job<T>; readonly result: unknown }
  | { readonly kind: 'failed'; readonly job: Job<T>; readonly error: Error; readonly retry: { readonly delayMs: number; readonly attempt: number }; readonly wakeInMs: number | undefined }
  | { readonly kind: 'dead'; readonly job: Job<T>; readonly error: Error }
  | undefined;

/** Longest error text stored with a job (the dead-letter stream keeps it). */
const MAX_ERROR_CHARS = 2000;

/**
 * One delivery, start to finish: decode, run the handler, then acknowledge
 * (completing the job) or fail it (retry with backoff, or dead-letter). The
 * acknowledgement is retried through failovers: losing it would only cause a
 * duplicate run, but retrying it is cheap and makes that rare.
 */
export async function runDelivery<T>(
  queue: DeliveryContext<T>,
  pk: PartitionKeys,
  d: Delivery,
  consumer: string,
  onLost: (cb: (why: string) => void) => void,
  handler: JobHandler<T>,
): Promise<DeliveryOutcome<T>> {
  let data: T | undefined;
  let error: Error | undefined;
  const stored = unwrapTrace(d.payload);
  try {
    data = queue.options.serializer.deserialize(stored.data);
  } catch (err) {
    error = new MessageDecodeError(`Job ${d.jobId} of queue "${queue.name}" cannot be decoded: ${(err as Error).message ?? String(err)}`, { cause: err });
  }
  const job = new Job<T>({
    id: d.jobId,
    data: data as T,
    attempt: d.used + 1,
    partition: pk.index,
    entryId: d.entryId,
    heartbeat: async () => {
      const lost = (await queue.writer.write(pk, 'touch', [d.stream], [queue.options.group, consumer, d.entryId])) as string[];
      return lost.length === 0;
    },
    progress: async (text, value) => {
      const stored = Number(await queue.writer.write(pk, 'progress', [d.stream, pk.jobPrefix + d.jobId, pk.events], [queue.options.group, consumer, d.entryId, text, d.jobId, queue.options.eventsMaxLen])) === 1;
      if (stored) queue.onProgress?.(job, value);
      return stored;
    },
  });
  onLost((why) => job.lose(why));
  let result: unknown;
  if (error === undefined) {
    try {
      result = await traceProcess(queue.tracing, queue.name, job, stored.carrier, async () => handler(job));
    } catch (thrown) {
      error = thrown instanceof Error ? thrown : new NonErrorThrownError(thrown);
    }
  }
  // Released on close: another worker runs it; whatever happened here does not count.
  if (job.signal.aborted && queue.closing.aborted) return undefined;
  return error === undefined ? complete(queue, pk, d.stream, job, result) : fail(queue, pk, d.stream, job, error);
}

async function complete<T>(queue: DeliveryContext<T>, pk: PartitionKeys, stream: string, job: Job<T>, result: unknown): Promise<DeliveryOutcome<T>> {
  let maybeApplied = false;
  const keep = queue.options.removeOnComplete.count;
  const r = await retryTransient(queue.options.addTimeoutMs, async () => {
    try {
      return Number(await queue.writer.write(pk, 'ack', [stream, pk.delayed, pk.completed, pk.events], [queue.options.group, job.entryId, pk.jobPrefix, job.id, Number.isFinite(keep) ? keep : -1, queue.options.eventsMaxLen]));
    } catch (err) {
      // The ack may have run before the failure; a retry then finds the job completed.
      if (isTransient(err)) maybeApplied = true;
      throw err;
    }
  });
  return { kind: r === 1 || maybeApplied ? 'completed' : 'duplicate', job, result };
}

async function fail<T>(queue: DeliveryContext<T>, pk: PartitionKeys, stream: string, job: Job<T>, error: Error): Promise<DeliveryOutcome<T>> {
  const o = queue.options;
  const delayMs = backoffDelay(job.attempt, o.backoffBaseMs, o.backoffMaxMs);
  const text = `${error.name}: ${error.message}`.slice(0, MAX_ERROR_CHARS);
  const r = (await retryTransient(o.addTimeoutMs, () =>
    queue.writer.write(pk, 'fail', [stream, pk.delayed, pk.dead, pk.events], [o.group, job.entryId, pk.jobPrefix, job.id, text, o.maxDeliveries, delayMs, dropsDead(o.removeOnDead) ? '1' : '0', o.eventsMaxLen]))) as number[];
  const kind = Number(r[0]);
  if (kind === 1) return { kind: 'failed', job, error, retry: { delayMs, attempt: Number(r[1]) + 1 }, wakeInMs: Number(r[2]) >= 0 ? delayMs : undefined };
  if (kind === 2) return { kind: 'dead', job, error };
  return undefined;
}
