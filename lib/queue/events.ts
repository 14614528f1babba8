import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterClient } from '../cluster-client.js';
import { checkClient } from '../check-client.js';
import { backoffMs } from '../core/retry.js';
import { describe } from '../core/describe.js';
import { ClientClosedError, InvalidArgumentError } from '../errors.js';
import type { JobProgress } from './job.js';
import { partitionKeys, type PartitionKeys } from './keys.js';
import { QUEUE_DEFAULTS, resolveQueueName } from './options.js';

/** Options of `new QueueEvents(client, name, options)`. */
export interface QueueEventsOptions {
  /** The queue's `partitions` (must match the queue's). @default 1 */
  partitions?: number;
  /** The queue's `prefix` (must match the queue's). @default 'q' */
  prefix?: string;
  /** Longest an XREAD blocks before looping (close() does not wait for it). @default 5000 */
  blockMs?: number;
  /** Where reading starts: `'new'` = events written after `start()`; `'oldest'` = everything the bounded streams still hold. @default 'new' */
  from?: 'new' | 'oldest';
}

/** Fields every queue event carries. */
export interface QueueEventBase {
  /** The job's id. */
  readonly jobId: string;
  /** Its partition. */
  readonly partition: number;
  /** Server time (ms) the event was written (from its stream entry id). */
  readonly at: number;
  /** The stream entry id (ordered within a partition). */
  readonly eventId: string;
}

/** Events of a QueueEvents listener: job outcomes from every worker process of the queue. */
export interface QueueEventsMap {
  /** A delivery completed the job. */
  completed: [event: QueueEventBase];
  /** A delivery failed. `retryInMs` is set when another delivery is scheduled, undefined when the job went dead (then `dead` follows). */
  failed: [event: QueueEventBase & {
    /** The error, as `Name: message`. */
    readonly error: string;
    /** Deliveries used so far. */
    readonly attempts: number;
    /** Wait before the next delivery. */
    readonly retryInMs: number | undefined;
  }];
  /** The job used all its deliveries (failures or stalls) and moved to the dead-letter stream. */
  dead: [event: QueueEventBase & {
    /** The last error, as `Name: message` (or why it stalled). */
    readonly error: string;
    /** Deliveries used. */
    readonly attempts: number;
  }];
  /** A delivery whose worker stopped renewing it was taken over by another worker. */
  stalled: [event: QueueEventBase & {
    /** Number of the delivery the new worker runs. */
    readonly attempt: number;
  }];
  /** A running job stored a progress report (`job.updateProgress()`). */
  progress: [event: QueueEventBase & {
    /** The reported progress. */
    readonly progress: JobProgress;
  }];
  /** A read failed (and is retried from the last event seen). Emitted only while someone listens. */
  error: [error: Error];
}

/**
 * Job events of a WorkQueue, observable from any process: every worker's
 * scripts append each outcome to its partition's bounded events stream
 * (`eventsMaxLen`) in the same call that decides it, and this listener reads
 * them with one XREAD BLOCK per partition on a dedicated connection. After a
 * connection loss or a failover it resumes after the last event it emitted;
 * events trimmed away meanwhile (more than `eventsMaxLen` per partition) are
 * missed. Order holds within a partition. See docs/05-queues.md#queue-events.
 */
export class QueueEvents extends EventEmitter<QueueEventsMap> {
  /** The queue's name. */
  readonly name: string;
  readonly #client: ClusterClient;
  readonly #parts: readonly PartitionKeys[];
  readonly #blockMs: number;
  readonly #from: 'new' | 'oldest';
  readonly #abort = new AbortController();
  readonly #last = new Map<number, string>();
  #readers: Promise<void>[] = [];
  #started = false;

  constructor(client: ClusterClient, name: string, options: QueueEventsOptions = {}) {
    super();
    checkClient(client);
    this.name = resolveQueueName(name);
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', `expected an object, got ${describe(options)}`);
    for (const k of Object.keys(options)) {
      if (!['partitions', 'prefix', 'blockMs', 'from'].includes(k)) throw new InvalidArgumentError(`option "${k}"`, 'unknown QueueEvents option; known: partitions, prefix, blockMs, from');
    }
    const partitions = options.partitions ?? QUEUE_DEFAULTS.partitions;
    const prefix = options.prefix ?? QUEUE_DEFAULTS.prefix;
    const blockMs = options.blockMs ?? 5000;
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1024) throw new InvalidArgumentError('partitions', `expected an integer from 1 to 1024, got ${describe(partitions)}`);
    if (typeof prefix !== 'string' || prefix.length === 0 || /[{}\s]/.test(prefix)) throw new InvalidArgumentError('prefix', `expected a non-empty string without braces or spaces, got ${describe(prefix)}`);
    if (!Number.isInteger(blockMs) || blockMs < 1 || blockMs > 600_000) throw new InvalidArgumentError('blockMs', `expected an integer from 1 to 600000, got ${describe(blockMs)}`);
    if (options.from !== undefined && options.from !== 'new' && options.from !== 'oldest') throw new InvalidArgumentError('from', `expected 'new' or 'oldest', got ${describe(options.from)}`);
    this.#client = client;
    this.#parts = partitionKeys(prefix, this.name, partitions);
    this.#blockMs = blockMs;
    this.#from = options.from ?? 'new';
  }

  /** Starts listening; resolves once every partition's read position is fixed (events written after this are seen). */
  async start(): Promise<void> {
    if (this.#started) throw new InvalidArgumentError('start', 'this QueueEvents was already started');
    this.#started = true;
    await Promise.all(this.#parts.map(async (pk) => {
      if (this.#from === 'oldest') return this.#last.set(pk.index, '0-0');
      const newest = (await this.#client.xrevrange(pk.events, '+', '-', 'COUNT', 1)) as [string, string[]][];
      this.#last.set(pk.index, newest[0]?.[0] ?? '0-0');
    }));
    this.#readers = this.#parts.map((pk) => this.#read(pk));
  }

  /** The id of the last event emitted per partition (where a restart would resume). */
  get positions(): ReadonlyMap<number, string> {
    return this.#last;
  }

  /** Stops reading (aborts the blocked reads); the client stays open. */
  async close(): Promise<void> {
    this.#abort.abort();
    await Promise.allSettled(this.#readers);
  }

  async #read(pk: PartitionKeys): Promise<void> {
    let failures = 0;
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      let reply: unknown;
      try {
        reply = await this.#client.send('xread', ['COUNT', 500, 'BLOCK', this.#blockMs, 'STREAMS', pk.events, this.#last.get(pk.index)!], { signal });
        failures = 0;
      } catch (err) {
        if (signal.aborted || err instanceof ClientClosedError) break;
        if (this.listenerCount('error') > 0) this.emit('error', err as Error);
        await sleep(backoffMs(failures++, 20, 2000), undefined, { signal }).catch(() => undefined);
        continue;
      }
      for (const [eventId, f] of parseEntries(reply)) {
        this.#last.set(pk.index, eventId);
        this.#emitEntry(pk.index, eventId, f);
      }
    }
  }

  #emitEntry(partition: number, eventId: string, f: Record<string, string>): void {
    const base = { jobId: f.id ?? '', partition, at: Number(eventId.split('-')[0]), eventId };
    switch (f.ev) {
      case 'completed':
        this.emit('completed', base);
        return;
      case 'failed':
        this.emit('failed', { ...base, error: f.err ?? '', attempts: Number(f.a), retryInMs: Number(f.in) });
        return;
      case 'dead':
        this.emit('failed', { ...base, error: f.err ?? '', attempts: Number(f.a), retryInMs: undefined });
        this.emit('dead', { ...base, error: f.err ?? '', attempts: Number(f.a) });
        return;
      case 'stalled':
        this.emit('stalled', { ...base, attempt: Number(f.a) + 1 });
        return;
      case 'progress':
        this.emit('progress', { ...base, progress: JSON.parse(f.p ?? 'null') as JobProgress });
    }
  }
}

/** XREAD reply for one stream — `[[key, entries]]` (RESP2) or `{ key: entries }` (RESP3) — as [id, fields] pairs. */
function parseEntries(reply: unknown): [string, Record<string, string>][] {
  if (reply === null || typeof reply !== 'object') return [];
  const streams = Array.isArray(reply) ? reply.map((s) => (s as [string, unknown])[1]) : Object.values(reply);
  const out: [string, Record<string, string>][] = [];
  for (const entries of streams) {
    for (const [id, fields] of (entries ?? []) as [string, string[] | null][]) {
      if (!Array.isArray(fields)) continue;
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
      out.push([id, f]);
    }
  }
  return out;
}
