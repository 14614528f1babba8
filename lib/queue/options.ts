import { resolveSerializer, type Serializer } from '../codec.js';
import { InvalidArgumentError } from '../errors.js';
import { describe } from '../core/describe.js';

/** Options of `new WorkQueue(client, name, options)`. */
export interface WorkQueueOptions<T = unknown> {
  /**
   * Partitions the queue is spread over, each its own stream in its own slot
   * (hash tag `{name:p}`), chosen so that partitions land on different
   * masters. More partitions, more throughput; order is kept per partition.
   * Every producer and worker of a queue must use the same number.
   * @default 1
   */
  partitions?: number;
  /** Prefix of every key of the queue. @default 'q' */
  prefix?: string;
  /** Consumer group name of the workers. @default 'workers' */
  group?: string;
  /**
   * Deliveries a job may use — a failure or a stall (its worker died) each
   * use one — before it moves to the dead-letter stream with its last error.
   * @default 5
   */
  maxDeliveries?: number;
  /**
   * A delivery not acknowledged nor renewed (the heartbeat renews it every
   * third of this) for this long is taken over by another worker.
   * @default 30000
   */
  visibilityTimeoutMs?: number;
  /** First retry delay after a failure; doubles per failure, with jitter. @default 1000 */
  backoffBaseMs?: number;
  /** Longest retry delay. @default 300000 */
  backoffMaxMs?: number;
  /**
   * Replicas that must have an `add` (and an ack) before it resolves, checked
   * with WAIT on the same connection as the write. 0 = acknowledged by the
   * master only (a failover right after may lose it).
   * @default 0
   */
  replicas?: number;
  /** How long WAIT waits for `replicas`, then NotReplicatedError. @default 1000 */
  replicaTimeoutMs?: number;
  /**
   * How long a completed job with an explicit `jobId` is remembered, so that
   * adding the same id again is a no-op. Jobs with generated ids are deleted
   * when completed.
   * @default 86400000
   */
  completedRetentionMs?: number;
  /**
   * How long `add` keeps retrying through failovers and reshards (a job id
   * makes every retry safe: the same id is enqueued once).
   * @default 10000
   */
  addTimeoutMs?: number;
  /**
   * Length (approximate, `MAXLEN ~`) each partition's events stream is trimmed to: job outcomes
   * (completed, failed, dead, stalled, progress) written by the same script as the outcome, read
   * from any process with `QueueEvents`. 0 writes no events.
   * @default 10000
   */
  eventsMaxLen?: number;
  /** Turns payloads into strings and back. @default strict JSON */
  serializer?: Serializer<T>;
  /**
   * Priority levels (1–16). With more than one, each partition keeps one
   * ready stream per level and `add(…, { priority })` picks it (higher
   * runs first, see docs/05-queues.md). Every producer and worker of a queue
   * must use the same number.
   * @default 1
   */
  priorities?: number;
  /**
   * Queue-wide rate limit: at most `max` jobs start per `durationMs` over all
   * workers, processes and partitions (GCRA on the server clock; in any window
   * of W ms at most `burst + W × max / durationMs` start).
   * @default undefined (no limit)
   */
  limiter?: QueueLimiterOptions;
  /**
   * Queue-wide concurrency cap: at most this many jobs run at once over all
   * workers and processes. Each running job holds a lease renewed by its
   * worker's heartbeat; a dead worker's leases expire after `visibilityTimeoutMs`.
   * @default undefined (no cap)
   */
  globalConcurrency?: number;
  /**
   * What is kept of completed jobs: `true` deletes a job at once when it
   * completes (its id can then be added again); `{ ageMs, count }` keeps each
   * completed job's marker (which makes a re-add with the same id a no-op)
   * for `ageMs` and at most the `count` most recent per partition.
   * @default { ageMs: completedRetentionMs } for explicit job ids; generated ids are deleted at once
   */
  removeOnComplete?: boolean | RetentionOptions;
  /**
   * What is kept of dead-lettered jobs: `true` deletes a job (hash and
   * dead-letter entry) at once; `{ ageMs, count }` keeps dead letters for
   * `ageMs` and at most the `count` most recent per partition (older ones are
   * trimmed, with their job hashes, whenever a job dies).
   * @default false (dead letters are kept until retried or cleaned)
   */
  removeOnDead?: boolean | RetentionOptions;
}

/** `limiter` option of a WorkQueue. */
export interface QueueLimiterOptions {
  /** Jobs that may start per `durationMs`, queue-wide. */
  max: number;
  /** The period of `max`, in ms. */
  durationMs: number;
  /**
   * Extra starts a window may see above the sustained rate: in any window of
   * W ms at most `burst + W × max / durationMs` jobs start. Half of it may
   * start at once after an idle spell; the other half absorbs the lag between
   * a grant (server clock) and a handler's start in a worker process.
   * @default a quarter of `max` (at least 1)
   */
  burst?: number;
}

/** How many finished jobs to keep (per partition) and for how long. */
export interface RetentionOptions {
  /** Keep at most this many of the most recent, per partition. @default unlimited */
  count?: number;
  /** Keep each for this long after it finished. @default unlimited (dead) / completedRetentionMs (completed) */
  ageMs?: number;
}

/** Options of `queue.add(payload, options)`. */
export interface AddOptions {
  /** Idempotency key: a job with the same id in the queue (or completed within `completedRetentionMs`) is not added again. @default a random UUID */
  jobId?: string;
  /** Run no earlier than this many ms from now (server clock). @default 0 */
  delayMs?: number;
  /** Jobs with the same partition key go to the same partition, in order. @default the job id */
  partitionKey?: string;
  /**
   * Priority level, 0 (lowest) to `priorities − 1` (highest): within a
   * partition a ready job of a higher level starts before any of a lower one.
   * @default 0
   */
  priority?: number;
}

/** Options of `queue.process(handler, options)`. */
export interface ProcessOptions {
  /** Jobs run at once by this worker (over all partitions). @default 1 */
  concurrency?: number;
  /**
   * Longest a reader blocks in XREADGROUP before looping (delayed jobs and
   * `close()` do not wait for it: they wake or abort the read).
   * @default 5000
   */
  blockMs?: number;
  /** Interval of the check for deliveries to take over from dead workers. @default visibilityTimeoutMs / 2 (at most 5000) */
  reclaimIntervalMs?: number;
  /** Safety re-check of the delayed set when no wake-up arrived (pub/sub is at-most-once). @default 5000 */
  promoteIntervalMs?: number;
}

/** WorkQueueOptions with every default filled in (`queue.options`). */
export interface ResolvedQueueOptions<T> {
  /** {@inheritDoc WorkQueueOptions.partitions} */
  readonly partitions: number;
  /** {@inheritDoc WorkQueueOptions.prefix} */
  readonly prefix: string;
  /** {@inheritDoc WorkQueueOptions.group} */
  readonly group: string;
  /** {@inheritDoc WorkQueueOptions.maxDeliveries} */
  readonly maxDeliveries: number;
  /** {@inheritDoc WorkQueueOptions.visibilityTimeoutMs} */
  readonly visibilityTimeoutMs: number;
  /** {@inheritDoc WorkQueueOptions.backoffBaseMs} */
  readonly backoffBaseMs: number;
  /** {@inheritDoc WorkQueueOptions.backoffMaxMs} */
  readonly backoffMaxMs: number;
  /** {@inheritDoc WorkQueueOptions.replicas} */
  readonly replicas: number;
  /** {@inheritDoc WorkQueueOptions.replicaTimeoutMs} */
  readonly replicaTimeoutMs: number;
  /** {@inheritDoc WorkQueueOptions.completedRetentionMs} */
  readonly completedRetentionMs: number;
  /** {@inheritDoc WorkQueueOptions.addTimeoutMs} */
  readonly addTimeoutMs: number;
  /** {@inheritDoc WorkQueueOptions.eventsMaxLen} */
  readonly eventsMaxLen: number;
  /** {@inheritDoc WorkQueueOptions.serializer} */
  readonly serializer: Serializer<T>;
  /** {@inheritDoc WorkQueueOptions.priorities} */
  readonly priorities: number;
  /** {@inheritDoc WorkQueueOptions.limiter} */
  readonly limiter: Readonly<Required<QueueLimiterOptions>> | undefined;
  /** {@inheritDoc WorkQueueOptions.globalConcurrency} */
  readonly globalConcurrency: number | undefined;
  /** {@inheritDoc WorkQueueOptions.removeOnComplete} */
  readonly removeOnComplete: ResolvedRetention;
  /** {@inheritDoc WorkQueueOptions.removeOnDead} */
  readonly removeOnDead: ResolvedRetention;
}

/** A retention policy resolved: 0 = keep nothing, Infinity = no bound. */
export interface ResolvedRetention {
  /** Most kept per partition. */
  readonly count: number;
  /** Longest kept, ms. */
  readonly ageMs: number;
}

export interface ResolvedProcessOptions {
  readonly concurrency: number;
  readonly blockMs: number;
  readonly reclaimIntervalMs: number;
  readonly promoteIntervalMs: number;
}

/** The default of every WorkQueueOptions field. */
export const QUEUE_DEFAULTS = {
  partitions: 1,
  prefix: 'q',
  group: 'workers',
  maxDeliveries: 5,
  visibilityTimeoutMs: 30_000,
  backoffBaseMs: 1000,
  backoffMaxMs: 300_000,
  replicas: 0,
  replicaTimeoutMs: 1000,
  completedRetentionMs: 86_400_000,
  addTimeoutMs: 10_000,
  eventsMaxLen: 10_000,
} as const;

const QUEUE_KEYS = new Set([...Object.keys(QUEUE_DEFAULTS), 'serializer', 'priorities', 'limiter', 'globalConcurrency', 'removeOnComplete', 'removeOnDead']);
const ADD_KEYS = new Set(['jobId', 'delayMs', 'partitionKey', 'priority']);
const PROCESS_KEYS = new Set(['concurrency', 'blockMs', 'reclaimIntervalMs', 'promoteIntervalMs']);

export function resolveQueueName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200 || /[{}\s]/.test(name)) {
    throw new InvalidArgumentError('queue name', `expected 1–200 characters without braces or spaces, got ${describe(name)}`);
  }
  return name;
}

export function resolveQueueOptions<T>(input: WorkQueueOptions<T> | undefined): ResolvedQueueOptions<T> {
  const o = object('queue options', input, QUEUE_KEYS);
  const r = { ...QUEUE_DEFAULTS, ...o } as Required<WorkQueueOptions<T>>;
  int('partitions', r.partitions, 1, 1024);
  int('maxDeliveries', r.maxDeliveries, 1, 1_000_000);
  int('visibilityTimeoutMs', r.visibilityTimeoutMs, 100, 86_400_000);
  int('backoffBaseMs', r.backoffBaseMs, 0, 86_400_000);
  int('backoffMaxMs', r.backoffMaxMs, 0, 86_400_000 * 7);
  int('replicas', r.replicas, 0, 100);
  int('replicaTimeoutMs', r.replicaTimeoutMs, 1, 600_000);
  int('completedRetentionMs', r.completedRetentionMs, 0, 86_400_000 * 365);
  int('addTimeoutMs', r.addTimeoutMs, 1, 3_600_000);
  int('eventsMaxLen', r.eventsMaxLen, 0, 10_000_000);
  if (r.backoffMaxMs < r.backoffBaseMs) throw new InvalidArgumentError('backoffMaxMs', `must be ≥ backoffBaseMs (${r.backoffBaseMs}), got ${r.backoffMaxMs}`);
  for (const k of ['prefix', 'group'] as const) {
    const v = r[k];
    if (typeof v !== 'string' || v.length === 0 || /[{}\s]/.test(v)) throw new InvalidArgumentError(k, `expected a non-empty string without braces or spaces, got ${describe(v)}`);
  }
  const priorities = r.priorities ?? 1;
  int('priorities', priorities, 1, 16);
  let globalConcurrency: number | undefined;
  if (r.globalConcurrency !== undefined) int('globalConcurrency', (globalConcurrency = r.globalConcurrency), 1, 1_000_000);
  return Object.freeze({
    ...r,
    priorities,
    limiter: resolveLimiter(r.limiter),
    globalConcurrency,
    removeOnComplete: resolveRetention('removeOnComplete', r.removeOnComplete, { count: Infinity, ageMs: r.completedRetentionMs }),
    removeOnDead: resolveRetention('removeOnDead', r.removeOnDead, { count: Infinity, ageMs: Infinity }),
    serializer: resolveSerializer(o.serializer as Serializer<T> | undefined, 'serializer'),
  });
}

function resolveLimiter(v: unknown): Readonly<Required<QueueLimiterOptions>> | undefined {
  if (v === undefined) return undefined;
  const o = object('limiter', v, new Set(['max', 'durationMs', 'burst']));
  int('limiter.max', o.max, 1, 10_000_000);
  int('limiter.durationMs', o.durationMs, 1, 86_400_000);
  const max = o.max as number;
  const durationMs = o.durationMs as number;
  const burst = (o.burst as number | undefined) ?? Math.max(1, Math.floor(max / 4));
  int('limiter.burst', burst, 1, 10_000_000);
  return Object.freeze({ max, durationMs, burst });
}

function resolveRetention(name: string, v: unknown, keepAll: ResolvedRetention): ResolvedRetention {
  if (v === undefined || v === false) return Object.freeze({ ...keepAll });
  if (v === true) return Object.freeze({ count: 0, ageMs: 0 });
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new InvalidArgumentError(name, `expected a boolean or { count?, ageMs? }, got ${describe(v)}`);
  const o = object(name, v, new Set(['count', 'ageMs']));
  if (o.count !== undefined) int(`${name}.count`, o.count, 0, 1_000_000_000);
  if (o.ageMs !== undefined) int(`${name}.ageMs`, o.ageMs, 0, 86_400_000 * 365);
  return Object.freeze({ count: (o.count as number | undefined) ?? keepAll.count, ageMs: (o.ageMs as number | undefined) ?? keepAll.ageMs });
}

export function resolveAddOptions(input: AddOptions | undefined, priorities = 1): { jobId: string | undefined; delayMs: number; partitionKey: string | undefined; priority: number } {
  const o = object('add options', input, ADD_KEYS) as AddOptions;
  if (o.jobId !== undefined && (typeof o.jobId !== 'string' || o.jobId.length === 0 || o.jobId.length > 512)) {
    throw new InvalidArgumentError('jobId', `expected a string of 1–512 characters, got ${describe(o.jobId)}`);
  }
  const delayMs = o.delayMs ?? 0;
  if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0 || delayMs > 86_400_000 * 365) {
    throw new InvalidArgumentError('delayMs', `expected a number of milliseconds from 0 to one year, got ${describe(o.delayMs)}`);
  }
  if (o.partitionKey !== undefined && (typeof o.partitionKey !== 'string' || o.partitionKey.length === 0)) {
    throw new InvalidArgumentError('partitionKey', `expected a non-empty string, got ${describe(o.partitionKey)}`);
  }
  const priority = o.priority ?? 0;
  if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 0 || priority >= priorities) {
    throw new InvalidArgumentError('priority', priorities === 1
      ? `this queue has one priority level (create it with the \`priorities\` option for more), got ${describe(o.priority)}`
      : `expected an integer from 0 to ${priorities - 1} (the queue's \`priorities\` − 1), got ${describe(o.priority)}`);
  }
  return { jobId: o.jobId, delayMs: Math.ceil(delayMs), partitionKey: o.partitionKey, priority };
}

export function resolveProcessOptions(input: ProcessOptions | undefined, visibilityTimeoutMs: number): ResolvedProcessOptions {
  const o = object('process options', input, PROCESS_KEYS) as ProcessOptions;
  const r = {
    concurrency: o.concurrency ?? 1,
    blockMs: o.blockMs ?? 5000,
    reclaimIntervalMs: o.reclaimIntervalMs ?? Math.min(5000, Math.max(50, Math.floor(visibilityTimeoutMs / 2))),
    promoteIntervalMs: o.promoteIntervalMs ?? 5000,
  };
  int('concurrency', r.concurrency, 1, 10_000);
  int('blockMs', r.blockMs, 1, 600_000);
  int('reclaimIntervalMs', r.reclaimIntervalMs, 10, 3_600_000);
  int('promoteIntervalMs', r.promoteIntervalMs, 10, 3_600_000);
  return Object.freeze(r);
}

function object(what: string, input: unknown, known: ReadonlySet<string>): Record<string, unknown> {
  if (input === undefined) return {};
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new InvalidArgumentError(what, `expected an object, got ${describe(input)}`);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    if (!known.has(k)) throw new InvalidArgumentError(`option "${k}"`, `unknown ${what.replace(' options', '')} option; known: ${[...known].join(', ')}`);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function int(name: string, v: unknown, min: number, max: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(name, `expected an integer from ${min} to ${max}, got ${describe(v)}`);
  }
}
