import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ClusterClient } from '../cluster-client.js';
import { checkClient } from '../check-client.js';
import { encode } from '../codec.js';
import { describe } from '../core/describe.js';
import { InvalidArgumentError, QueueClosedError } from '../errors.js';
import { helperMetrics } from '../telemetry/helper-metrics.js';
import { runDelivery, type DeliveryContext, type DeliveryOutcome } from './delivery.js';
import type { Job, JobHandler, JobProgress } from './job.js';
import { limitKeys, partitionKeys, partitionOf, type PartitionKeys } from './keys.js';
import { QueueLimits } from './limiter.js';
import { recordJob } from './metrics.js';
import { cleanPartition, dropsDead, resolveClean, Retention, type CleanOptions, type CleanState } from './retention.js';
import {
  resolveAddOptions,
  resolveProcessOptions,
  resolveQueueName,
  resolveQueueOptions,
  type AddOptions,
  type ProcessOptions,
  type ResolvedQueueOptions,
  type WorkQueueOptions,
} from './options.js';
import { RepeatScheduler, type RepeatableInfo } from './repeat.js';
import type { RepeatOptions, RepeatSchedule } from './repeat-spec.js';
import { retryTransient } from './retry.js';
import { defineQueueScripts, type QueueScripts } from './scripts.js';
import { traceAdd, unwrapTrace, wrapTrace } from './trace.js';
import { Worker } from './worker.js';
import type { AddResult, DeadLetter, QueueStats, WorkQueueEvents } from './queue-types.js';
import { PartitionWriter } from './writer.js';

export type { JobHandler } from './job.js';
export type { CleanOptions, CleanState } from './retention.js';
export type { AddResult, DeadLetter, QueueStats, WorkQueueEvents } from './queue-types.js';

const BULK_CHUNK = 200;

/** A validated job of one addBulk() call, ready to write. */
interface PreparedJob {
  readonly index: number;
  readonly jobId: string;
  readonly data: string;
  readonly delayMs: number;
  readonly partition: number;
  readonly retention: number;
  readonly generated: boolean;
  readonly priority: number;
}

/**
 * A reliable work queue on Redis Streams consumer groups, spread over
 * `partitions` slots. Delivery is AT-LEAST-ONCE: a job acknowledged by `add`
 * runs until a handler completes it or it is dead-lettered; a worker that
 * dies mid-job has its deliveries taken over after `visibilityTimeoutMs`, so
 * a handler may run more than once for one job — make handlers idempotent.
 * See docs/05-queues.md.
 */
export class WorkQueue<T = unknown> extends EventEmitter<WorkQueueEvents<T>> {
  /** The queue's name (part of every key). */
  readonly name: string;
  /** The options in force, defaults filled in. */
  readonly options: ResolvedQueueOptions<T>;
  /** Keys of every partition (for operators: what to look at with redis-cli). */
  readonly partitions: readonly PartitionKeys[];
  readonly #client: ClusterClient;
  readonly #scripts: QueueScripts;
  readonly #writer: PartitionWriter;
  readonly #closing = new AbortController();
  readonly #delivery: DeliveryContext<T>;
  readonly #limits: QueueLimits;
  readonly #retention: Retention;
  #worker: Worker | undefined;
  #paused = false;
  readonly #repeats: RepeatScheduler<T>;
  /** Stops the `slotwise.queue.depth` gauge (metrics on). */
  readonly #stopDepth: (() => void) | undefined;

  constructor(client: ClusterClient, name: string, options?: WorkQueueOptions<T>) {
    super();
    checkClient(client);
    this.name = resolveQueueName(name);
    this.options = resolveQueueOptions(options);
    this.partitions = Object.freeze(partitionKeys(this.options.prefix, this.name, this.options.partitions, this.options.priorities));
    this.#client = client;
    this.#scripts = defineQueueScripts(client);
    this.#limits = new QueueLimits(this.#scripts, limitKeys(this.options.prefix, this.name), this.options as ResolvedQueueOptions<unknown>);
    this.#retention = new Retention(this.#scripts, this.options.removeOnDead, (err) => this.#reportError(err));
    this.#writer = new PartitionWriter(client, this.#scripts, this.name, this.options.replicas, this.options.replicaTimeoutMs);
    this.#delivery = {
      name: this.name, options: this.options, writer: this.#writer, closing: this.#closing.signal, tracing: client.options.telemetry.tracing,
      onProgress: (job, progress) => this.emit('progress', job, progress),
    };
    this.#stopDepth = helperMetrics(client.options.telemetry.metrics)?.observeQueue(this.name, async () => (await this.stats()).partitions);
    this.#repeats = new RepeatScheduler<T>({
      client, name: this.name, options: this.options, partitions: this.partitions, wake: (pk, inMs) => this.#wake(pk, inMs), error: (err) => this.#reportError(err),
    });
  }

  /**
   * Creates (or replaces) a repeatable job: every tick of `schedule` enqueues
   * one job with `payload` and the id `repeat:<key>:<tick ms>`, exactly once
   * however many processes run, enqueued up to 5 s ahead as a delayed job.
   * Every process running `process()` schedules ticks. Adding the same key
   * with the same schedule, payload and options again changes nothing (safe
   * at every start-up). See docs/05-queues.md#repeatable-jobs.
   */
  async addRepeatable(key: string, payload: T, schedule: RepeatSchedule, options?: RepeatOptions): Promise<RepeatableInfo> {
    this.#assertOpen();
    return this.#repeats.add(key, payload, schedule, options);
  }

  /** Deletes a repeatable job and cancels its ticks enqueued ahead; resolves false if there was none. */
  async removeRepeatable(key: string): Promise<boolean> {
    this.#assertOpen();
    return this.#repeats.remove(key);
  }

  /** The queue's repeatable jobs, by key. */
  async repeatables(): Promise<RepeatableInfo[]> {
    return this.#repeats.list();
  }

  /**
   * Enqueues one job; resolves once the master (and, with `replicas: n`, n
   * replicas) has it. Invalid input fails with InvalidArgumentError and
   * writes nothing.
   */
  async add(payload: T, options?: AddOptions): Promise<AddResult> {
    return (await this.addBulk([{ payload, options }]))[0]!;
  }

  /** Enqueues many jobs (grouped per partition, one script call per 200). All are validated before anything is written. */
  async addBulk(jobs: readonly { readonly payload: T; readonly options?: AddOptions }[]): Promise<AddResult[]> {
    if (!Array.isArray(jobs)) throw new InvalidArgumentError('jobs', 'expected an array of { payload, options }');
    this.#assertOpen();
    const prepared = jobs.map((j, i) => {
      const where = jobs.length === 1 ? '' : `jobs[${i}].`;
      if (j === null || typeof j !== 'object') throw new InvalidArgumentError(`${where || 'job'}`, 'expected { payload, options }');
      let o;
      try {
        o = resolveAddOptions(j.options, this.options.priorities);
      } catch (err) {
        if (where && err instanceof InvalidArgumentError) throw new InvalidArgumentError(`${where}${err.argument}`, err.message.replace(/^Invalid [^:]+: /, ''));
        throw err;
      }
      const data = encode(this.options.serializer, j.payload, `${where}payload`);
      const jobId = o.jobId ?? randomUUID();
      const partition = partitionOf(o.partitionKey ?? jobId, this.partitions.length);
      const keep = this.options.removeOnComplete;
      const retention = o.jobId === undefined || keep.count === 0 ? 0 : keep.ageMs;
      return { index: i, jobId, data, delayMs: o.delayMs, partition, retention, generated: o.jobId === undefined, priority: o.priority };
    });
    return traceAdd(this.#delivery.tracing, this.name, prepared.length, (carrier) => this.#addPrepared(carrier === undefined ? prepared : prepared.map((p) => ({ ...p, data: wrapTrace(p.data, carrier) }))));
  }

  async #addPrepared(prepared: readonly PreparedJob[]): Promise<AddResult[]> {
    const results: AddResult[] = new Array(prepared.length);
    const byPartition = new Map<number, PreparedJob[]>();
    for (const p of prepared) {
      const group = byPartition.get(p.partition);
      if (group) group.push(p);
      else byPartition.set(p.partition, [p]);
    }
    await Promise.all([...byPartition].map(async ([partition, items]) => {
      const pk = this.partitions[partition]!;
      for (let i = 0; i < items.length; i += BULK_CHUNK) {
        const chunk = items.slice(i, i + BULK_CHUNK);
        const added = await this.#addChunk(pk, chunk);
        chunk.forEach((it, k) => (results[it.index] = { jobId: it.jobId, added: added[k]!, partition }));
      }
    }));
    return results;
  }

  async #addChunk(pk: PartitionKeys, items: readonly { jobId: string; data: string; delayMs: number; retention: number; generated: boolean; priority: number }[]): Promise<boolean[]> {
    const args = [pk.jobPrefix, ...items.flatMap((it) => [it.jobId, it.data, it.delayMs, it.retention, it.priority])];
    const added = items.map(() => false);
    let retried = false;
    const reply = await retryTransient(this.options.addTimeoutMs, async (attempt) => {
      retried = attempt > 1;
      const r = (await this.#writer.write(pk, 'add', [pk.ready, pk.delayed, ...pk.levels.slice(1)], args)) as number[];
      r.slice(0, items.length).forEach((v, k) => (added[k] ||= Number(v) === 1));
      return r;
    });
    // A generated id is ours alone: "exists" after a retry means our earlier attempt wrote it.
    if (retried) items.forEach((it, k) => (added[k] ||= it.generated));
    const became = Number(reply[items.length]);
    if (became >= 0) this.#wake(pk, became);
    return added;
  }

  /**
   * Starts consuming with `handler` (one worker per WorkQueue instance);
   * resolves once the consumer groups exist and the readers run.
   */
  async process(handler: JobHandler<T>, options?: ProcessOptions): Promise<void> {
    if (typeof handler !== 'function') throw new InvalidArgumentError('handler', `expected a function, got ${typeof handler}`);
    const opts = resolveProcessOptions(options, this.options.visibilityTimeoutMs);
    this.#assertOpen();
    if (this.#worker) throw new InvalidArgumentError('process', 'this WorkQueue already has a worker; create another WorkQueue instance for another handler');
    const worker = new Worker({
      client: this.#client,
      group: this.options.group,
      visibilityTimeoutMs: this.options.visibilityTimeoutMs,
      maxDeliveries: this.options.maxDeliveries,
      eventsMaxLen: this.options.eventsMaxLen,
      scripts: this.#scripts,
      limits: this.#limits,
      dropDead: dropsDead(this.options.removeOnDead),
      run: (pk, d, consumer, lost) => {
        const metrics = helperMetrics(this.#client.options.telemetry.metrics);
        const started = metrics === undefined ? 0 : Date.now();
        return runDelivery(this.#delivery, pk, d, consumer, lost, handler).then((outcome) => {
          if (metrics !== undefined && outcome !== undefined) recordJob(metrics, this.name, pk, d.entryId, started, outcome);
          this.#announce(pk, outcome);
        });
      },
      stalled: (pk, d) => this.emit('stalled', { jobId: d.jobId, partition: pk.index, attempt: d.used + 1 }),
      error: (err) => this.#reportError(err),
    }, this.partitions, opts);
    this.#worker = worker;
    if (this.#paused) worker.pause();
    try {
      await worker.start();
      this.#repeats.start();
    } catch (err) {
      this.#worker = undefined;
      await worker.close(0).catch(() => undefined);
      throw err;
    }
  }

  /** Counts of waiting, delayed, in-flight and dead jobs. */
  async stats(): Promise<QueueStats> {
    const parts = await Promise.all(this.partitions.map(async (pk) => {
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      const [len, pending, delayed, dead] = await Promise.all([
        Promise.all(pk.levels.map((s) => this.#client.xlen(s))).then(sum),
        Promise.all(pk.levels.map((s) => this.#client.call('XPENDING', s, this.options.group).then((r) => Number((r as unknown[])[0] ?? 0), () => 0))).then(sum),
        this.#client.zcard(pk.delayed),
        this.#client.xlen(pk.dead),
      ]);
      return { waiting: Math.max(0, len - pending), delayed, inFlight: pending, dead };
    }));
    const sum = (k: 'waiting' | 'delayed' | 'inFlight' | 'dead') => parts.reduce((n, p) => n + p[k], 0);
    return { waiting: sum('waiting'), delayed: sum('delayed'), inFlight: sum('inFlight'), dead: sum('dead'), partitions: parts };
  }

  /**
   * The progress last stored for a job by `job.updateProgress()` (from any
   * process), or undefined when none was stored or the job is gone. Pass the
   * job's `partitionKey` if it was added with one: it decides where the job lives.
   */
  async progressOf(jobId: string, options: { partitionKey?: string } = {}): Promise<JobProgress | undefined> {
    if (typeof jobId !== 'string' || jobId.length === 0) throw new InvalidArgumentError('jobId', `expected a non-empty string, got ${typeof jobId}`);
    const { partitionKey } = options;
    if (partitionKey !== undefined && (typeof partitionKey !== 'string' || partitionKey.length === 0)) {
      throw new InvalidArgumentError('partitionKey', `expected a non-empty string, got ${typeof partitionKey}`);
    }
    const pk = this.partitions[partitionOf(partitionKey ?? jobId, this.partitions.length)]!;
    const text = await this.#client.hget(pk.jobPrefix + jobId, 'p');
    return text === null ? undefined : (JSON.parse(text) as JobProgress);
  }

  /**
   * Stops THIS process's worker from starting jobs (others go on): it reads
   * no new deliveries and takes none over; running jobs finish. Deliveries a
   * read already in flight brings in wait here, renewed, until `resume()` (or
   * are given back by `close()`). Before `process()`, the worker starts paused.
   */
  pause(): void {
    this.#paused = true;
    this.#worker?.pause();
  }

  /** Lets the worker start jobs again after `pause()`. */
  resume(): void {
    this.#paused = false;
    this.#worker?.resume();
  }

  /** Whether `pause()` is in effect. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Reads up to `limit` dead-lettered jobs per partition, oldest first. */
  async deadLetters(options: { limit?: number } = {}): Promise<DeadLetter<T>[]> {
    checkOptionsObject(options);
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError('limit', `expected an integer ≥ 1, got ${describe(limit)}`);
    const out: DeadLetter<T>[] = [];
    for (const pk of this.partitions) {
      const entries = (await this.#client.call('XRANGE', pk.dead, '-', '+', 'COUNT', limit)) as [string, string[]][];
      for (const [, fields] of entries) {
        const f: Record<string, string> = {};
        for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
        out.push({ jobId: f.id!, data: this.options.serializer.deserialize(unwrapTrace(f.d!).data), error: f.err ?? '', attempts: Number(f.a), failedAt: Number(f.at), partition: pk.index });
      }
    }
    return out;
  }

  /** Moves dead-lettered jobs back to the ready streams with fresh deliveries; resolves with how many. */
  async retryDeadLetters(options: { limit?: number } = {}): Promise<number> {
    checkOptionsObject(options);
    const limit = options.limit ?? Infinity;
    if (limit !== Infinity && (!Number.isInteger(limit) || limit < 1)) throw new InvalidArgumentError('limit', `expected an integer ≥ 1, got ${describe(limit)}`);
    this.#assertOpen();
    let total = 0;
    for (const pk of this.partitions) {
      for (;;) {
        const want = Math.min(500, limit - total);
        if (want <= 0) return total;
        const n = Number(await this.#scripts['retry-dead'].run([pk.ready, pk.dead, ...pk.levels.slice(1)], [pk.jobPrefix, want]));
        total += n;
        if (n < want) break;
      }
    }
    return total;
  }

  /**
   * Removes finished jobs now: `'dead'` letters (entry and job hash) or
   * `'completed'` markers (whose ids could then be added again) that
   * finished at least `olderThanMs` ago (default: all), at most `limit`;
   * resolves with how many were removed. See also `removeOnComplete` and
   * `removeOnDead`, which bound them as jobs finish.
   */
  async clean(state: CleanState, options?: CleanOptions): Promise<number> {
    const { olderThanMs, limit } = resolveClean(state, options);
    this.#assertOpen();
    let total = 0;
    for (const pk of this.partitions) {
      if (total >= limit) break;
      total += await cleanPartition(this.#scripts, pk, state, -1, olderThanMs, limit - total);
    }
    return total;
  }

  /**
   * Stops the worker: no new reads; running jobs get `timeoutMs` to finish,
   * then are released to other workers (their `job.signal` aborts and their
   * results are ignored). The client stays open.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    checkOptionsObject(options);
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 0) throw new InvalidArgumentError('timeoutMs', `expected an integer ≥ 0, got ${describe(timeoutMs)}`);
    this.#closing.abort();
    this.#stopDepth?.();
    await this.#repeats.stop();
    await this.#worker?.close(timeoutMs);
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closing.signal.aborted;
  }

  /** Announces how a delivery ended; wakes workers for a retry that is due. */
  #announce(pk: PartitionKeys, o: DeliveryOutcome<T>): void {
    if (o === undefined) return;
    switch (o.kind) {
      case 'completed':
      case 'duplicate':
        this.emit(o.kind, o.job, o.result);
        return;
      case 'failed':
        this.emit('failed', o.job, o.error, o.retry);
        if (o.wakeInMs !== undefined) this.#wake(pk, o.wakeInMs);
        return;
      case 'dead':
        this.#retention.afterDead(pk);
        this.emit('failed', o.job, o.error, undefined);
        this.emit('dead', o.job, o.error);
    }
  }

  /** Tells workers (ours at once, others over sharded pub/sub) that a delayed job is due in `inMs`. */
  #wake(pk: PartitionKeys, inMs: number): void {
    this.#worker?.wakeAt(pk, inMs);
    this.#client.spublish(pk.wake, `d:${inMs}`).catch(() => undefined);
  }

  #reportError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  #assertOpen(): void {
    if (this.#closing.signal.aborted) throw new QueueClosedError(`Work queue "${this.name}" is closed`);
  }
}

/** A method's options argument must be an object (null is not "no options": a typed error, not a TypeError). */
function checkOptionsObject(options: unknown): void {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', `expected an object, got ${describe(options)}`);
}
