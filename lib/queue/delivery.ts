import { MessageDecodeError, NonErrorThrownError } from '../errors.js';
import { Job, backoffDelay } from './job.js';
import type { PartitionKeys } from './keys.js';
import type { JobHandler, WorkQueue } from './queue.js';
import { isTransient, retryTransient } from './retry.js';
import type { Delivery } from './worker.js';

/** Longest error text stored with a job (the dead-letter stream keeps it). */
const MAX_ERROR_CHARS = 2000;

/**
 * One delivery, start to finish: decode, run the handler, then acknowledge
 * (completing the job) or fail it (retry with backoff, or dead-letter). The
 * acknowledgement is retried through failovers: losing it would only cause a
 * duplicate run, but retrying it is cheap and makes that rare.
 */
export async function runDelivery<T>(
  queue: WorkQueue<T>,
  pk: PartitionKeys,
  d: Delivery,
  consumer: string,
  onLost: (cb: (why: string) => void) => void,
  handler: JobHandler<T>,
): Promise<void> {
  let data: T | undefined;
  let error: Error | undefined;
  try {
    data = queue.options.serializer.deserialize(d.payload);
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
      const lost = (await queue.write(pk, 'touch', [pk.ready], [queue.options.group, consumer, d.entryId])) as string[];
      return lost.length === 0;
    },
  });
  onLost((why) => job.lose(why));
  let result: unknown;
  if (error === undefined) {
    try {
      result = await handler(job);
    } catch (thrown) {
      error = thrown instanceof Error ? thrown : new NonErrorThrownError(thrown);
    }
  }
  // Released on close: another worker runs it; whatever happened here does not count.
  if (job.signal.aborted && queue.closed) return;
  if (error === undefined) await complete(queue, pk, job, result);
  else await fail(queue, pk, job, error);
}

async function complete<T>(queue: WorkQueue<T>, pk: PartitionKeys, job: Job<T>, result: unknown): Promise<void> {
  let maybeApplied = false;
  const r = await retryTransient(queue.options.addTimeoutMs, async () => {
    try {
      return Number(await queue.write(pk, 'ack', [pk.ready, pk.delayed], [queue.options.group, job.entryId, pk.jobPrefix, job.id]));
    } catch (err) {
      // The ack may have run before the failure; a retry then finds the job completed.
      if (isTransient(err)) maybeApplied = true;
      throw err;
    }
  });
  if (r === 1 || maybeApplied) queue.emit('completed', job, result);
  else queue.emit('duplicate', job, result);
}

async function fail<T>(queue: WorkQueue<T>, pk: PartitionKeys, job: Job<T>, error: Error): Promise<void> {
  const o = queue.options;
  const delayMs = backoffDelay(job.attempt, o.backoffBaseMs, o.backoffMaxMs);
  const text = `${error.name}: ${error.message}`.slice(0, MAX_ERROR_CHARS);
  const r = (await retryTransient(o.addTimeoutMs, () =>
    queue.write(pk, 'fail', [pk.ready, pk.delayed, pk.dead], [o.group, job.entryId, pk.jobPrefix, job.id, text, o.maxDeliveries, delayMs]))) as number[];
  const kind = Number(r[0]);
  if (kind === 1) {
    queue.emit('failed', job, error, { delayMs, attempt: Number(r[1]) + 1 });
    if (Number(r[2]) >= 0) queue.wake(pk, delayMs);
  } else if (kind === 2) {
    queue.emit('failed', job, error, undefined);
    queue.emit('dead', job, error);
  }
}
