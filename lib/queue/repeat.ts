import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterClient } from '../cluster-client.js';
import { encode } from '../codec.js';
import { ClientClosedError, InvalidArgumentError, NotReplicatedError } from '../errors.js';
import { runOnConnection } from '../scripts/on-connection.js';
import type { Script } from '../scripts/script.js';
import { partitionOf, type PartitionKeys } from './keys.js';
import type { ResolvedQueueOptions } from './options.js';
import { resolveRepeatKey, resolveRepeatOptions, resolveSchedule, nextTick, latestTick, type RepeatDefinition, type RepeatOptions, type RepeatSchedule } from './repeat-spec.js';
import { retryTransient } from './retry.js';

/**
 * Ticks are enqueued (as delayed jobs, replicated with `replicas`) this long
 * before they are due: a scheduler outage shorter than this (a worker
 * restart, a failover) delays no tick.
 */
export const REPEAT_LOOKAHEAD_MS = 5000;
/** Longest a scheduler sleeps between looks at its partitions (it picks up repeatables other processes added). */
const REPEAT_POLL_MS = 1000;
/** A tick's completed job is remembered this long (bounded by removeOnComplete): frequent ticks must not pile up markers. */
const TICK_RETENTION_MS = 600_000;
/** Ticks cancelled by remove(): at most this many ahead of now are looked for. */
const MAX_CANCEL = 1000;

/** A repeatable job as `queue.repeatables()` reports it. */
export interface RepeatableInfo {
  /** The repeatable's key (its identity in the queue). */
  readonly key: string;
  /** Interval in ms, for `every` schedules. */
  readonly every?: number;
  /** Cron expression, for cron schedules. */
  readonly cron?: string;
  /** Time zone of the cron expression. */
  readonly tz?: string;
  /** Policy for ticks missed while no process scheduled. */
  readonly missed: 'each' | 'once';
  /** Priority level of its ticks' jobs. */
  readonly priority: number;
  /** The next tick not enqueued yet (ms since the epoch); ticks before it are already enqueued. Undefined: the schedule ended. */
  readonly nextTickAt: number | undefined;
  /** The partition its ticks' jobs go to. */
  readonly partition: number;
}

type RepeatScriptName = 'repeat-put' | 'repeat-tick' | 'repeat-remove';
const SOURCES = Object.fromEntries((['repeat-put', 'repeat-tick', 'repeat-remove'] as const).map((n) => [n, readFileSync(new URL(`./lua/${n}.lua`, import.meta.url), 'utf8')])) as Record<RepeatScriptName, string>;

/** What the repeat scheduler needs from its queue. */
export interface RepeatHost<T> {
  readonly client: ClusterClient;
  readonly name: string;
  readonly options: ResolvedQueueOptions<T>;
  readonly partitions: readonly PartitionKeys[];
  /** Workers should look at `pk`'s delayed set in `inMs`. */
  wake(pk: PartitionKeys, inMs: number): void;
  error(err: Error): void;
}

/**
 * Repeatable jobs of one WorkQueue. Each repeatable lives in one partition
 * (by its key): a definition, and a schedule entry holding the next tick not
 * yet enqueued. Any process may enqueue ticks; the compare-and-set in
 * repeat-tick.lua lets exactly one enqueue each tick, as a job whose id is
 * derived from (key, tick).
 */
export class RepeatScheduler<T> {
  readonly #host: RepeatHost<T>;
  readonly #scripts: Readonly<Record<RepeatScriptName, Script>>;
  #abort: AbortController | undefined;
  #loops: Promise<void>[] = [];

  constructor(host: RepeatHost<T>) {
    this.#host = host;
    this.#scripts = Object.fromEntries(Object.entries(SOURCES).map(([n, lua]) => [n, host.client.defineScript({ name: `queue:${n}`, lua })])) as Record<RepeatScriptName, Script>;
  }

  async add(key: string, payload: T, schedule: RepeatSchedule, options?: RepeatOptions): Promise<RepeatableInfo> {
    const k = resolveRepeatKey(key);
    const spec = resolveSchedule(schedule);
    const { missed, priority } = resolveRepeatOptions(options, this.#host.options.priorities);
    const data = encode(this.#host.options.serializer, payload, 'payload');
    const pk = this.#partition(k);
    // Level 0 is left out of the sig, so definitions stored before priorities existed stay unchanged.
    const level = priority > 0 ? { priority } : {};
    const sig = JSON.stringify({ ...spec, missed, data, ...level });
    const def: RepeatDefinition & { sig: string } = { id: randomUUID(), sig, key: k, ...spec, missed, ...level, data };
    const first = nextTick(spec, Date.now() - 1);
    if (first === undefined) throw new InvalidArgumentError('cron', 'the expression has no future tick');
    await this.#durable(pk, 'repeat-put', [pk.repeat, pk.repeatDefs], [k, JSON.stringify(def), sig, first]);
    // Enqueue the first ticks now, so they come even before any worker's scheduler looks.
    await this.schedule(pk).catch((err: Error) => this.#host.error(err));
    return (await this.#info(pk, [k]))[0]!;
  }

  async remove(key: string): Promise<boolean> {
    const k = resolveRepeatKey(key);
    const pk = this.#partition(k);
    for (;;) {
      const [defText, score] = await Promise.all([this.#host.client.hget(pk.repeatDefs, k), this.#host.client.zscore(pk.repeat, k)]);
      const ids: string[] = [];
      if (defText !== null && score !== null) {
        const def = JSON.parse(defText) as RepeatDefinition;
        // Ticks enqueued ahead lie between now and the schedule's score.
        for (let t = nextTick(def, Date.now() - 1), n = 0; t !== undefined && t < Number(score) && n < MAX_CANCEL; t = nextTick(def, t), n++) ids.push(`repeat:${k}:${t}`);
      }
      const r = Number(await this.#durable(pk, 'repeat-remove', [pk.repeat, pk.repeatDefs, pk.delayed], [pk.jobPrefix, k, score ?? '', ...ids]));
      if (r !== -1) return r === 1;
    }
  }

  async list(): Promise<RepeatableInfo[]> {
    const out: RepeatableInfo[] = [];
    for (const pk of this.#host.partitions) out.push(...(await this.#info(pk, undefined)));
    return out.sort((a, b) => a.key.localeCompare(b.key));
  }

  /** Starts a scheduling loop per partition (in each worker process). */
  start(): void {
    if (this.#abort) return;
    this.#abort = new AbortController();
    this.#loops = this.#host.partitions.map((pk) => this.#loop(pk, this.#abort!.signal));
  }

  async stop(): Promise<void> {
    this.#abort?.abort();
    await Promise.allSettled(this.#loops);
    this.#loops = [];
  }

  /**
   * Enqueues every tick of `pk` due within the lookahead; resolves with the
   * earliest schedule score left (undefined: no repeatable here).
   */
  async schedule(pk: PartitionKeys, signal?: AbortSignal): Promise<number | undefined> {
    const { client, options } = this.#host;
    const keep = options.removeOnComplete;
    const retention = keep.count === 0 ? 0 : Math.min(keep.ageMs, TICK_RETENTION_MS);
    for (let rounds = 0; rounds < 10_000 && signal?.aborted !== true; rounds++) {
      const now = Date.now();
      const due = (await client.zrangebyscore(pk.repeat, '-inf', now + REPEAT_LOOKAHEAD_MS, 'WITHSCORES', 'LIMIT', 0, 100)) as string[];
      if (due.length === 0) break;
      const keys = due.filter((_, i) => i % 2 === 0);
      const defs = await client.hmget(pk.repeatDefs, ...keys);
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const score = due[2 * i + 1]!;
        const text = defs[i];
        if (text === null || text === undefined) {
          await client.zrem(pk.repeat, key); // a definition removed without its schedule entry: nothing to run
          continue;
        }
        const def = JSON.parse(text) as RepeatDefinition;
        let tick = Number(score);
        if (def.missed === 'once') {
          const after = nextTick(def, tick);
          if (after !== undefined && after <= now) tick = latestTick(def, tick, now) ?? tick;
        }
        const next = nextTick(def, tick);
        // A level this process's queue does not have (fewer `priorities`): level 0's stream, as promote does.
        const level = def.priority ?? 0;
        const stream = pk.levels[level] ?? pk.ready;
        const r = (await retryTransient(options.addTimeoutMs, () =>
          this.#durable(pk, 'repeat-tick', [stream, pk.delayed, pk.repeat, pk.repeatDefs], [pk.jobPrefix, key, score, tick, next ?? '', retention, def.id, level]), signal)) as number[];
        const became = Number(r[2] ?? -1);
        if (Number(r[0]) === 1 && became >= 0) this.#host.wake(pk, became);
        else if (Number(r[0]) === 1 && Number(r[1]) === 1 && tick <= now) this.#host.wake(pk, 0);
      }
    }
    const first = (await client.zrange(pk.repeat, '0', '0', 'WITHSCORES')) as string[];
    return first.length === 2 ? Number(first[1]) : undefined;
  }

  async #loop(pk: PartitionKeys, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let waitMs = REPEAT_POLL_MS;
      try {
        const earliest = await this.schedule(pk, signal);
        if (earliest !== undefined) waitMs = Math.max(20, Math.min(REPEAT_POLL_MS, earliest - REPEAT_LOOKAHEAD_MS - Date.now()));
      } catch (err) {
        if (signal.aborted || err instanceof ClientClosedError) break;
        this.#host.error(err as Error);
        waitMs = 250;
      }
      await sleep(waitMs, undefined, { signal }).catch(() => undefined);
    }
  }

  async #info(pk: PartitionKeys, only: string[] | undefined): Promise<RepeatableInfo[]> {
    const { client } = this.#host;
    const entries: [string, string][] = only === undefined
      ? Object.entries(await client.hgetall(pk.repeatDefs))
      : (await client.hmget(pk.repeatDefs, ...only)).flatMap((t, i) => (t === null ? [] : [[only[i]!, t] as [string, string]]));
    const out: RepeatableInfo[] = [];
    for (const [key, text] of entries) {
      const d = JSON.parse(text) as RepeatDefinition;
      const score = await client.zscore(pk.repeat, key);
      out.push({
        key, missed: d.missed, priority: d.priority ?? 0, nextTickAt: score === null ? undefined : Number(score), partition: pk.index,
        ...(d.every === undefined ? { cron: d.cron!, tz: d.tz! } : { every: d.every }),
      });
    }
    return out;
  }

  #partition(key: string): PartitionKeys {
    return this.#host.partitions[partitionOf(key, this.#host.partitions.length)]!;
  }

  /** Runs a script; with `replicas`, on a dedicated connection followed by WAIT there (as add does). */
  async #durable(pk: PartitionKeys, name: RepeatScriptName, keys: string[], args: (string | number)[]): Promise<unknown> {
    const { client, options, name: queue } = this.#host;
    const script = this.#scripts[name];
    if (options.replicas === 0) return script.run(keys, args);
    return client.withConnection(pk.ready, async (conn) => {
      const reply = await runOnConnection(conn, script, keys, args);
      const acked = Number(await conn.send('wait', [options.replicas, options.replicaTimeoutMs]));
      if (acked < options.replicas) {
        throw new NotReplicatedError(`Queue "${queue}" ${name} reached ${acked} of ${options.replicas} replicas within ${options.replicaTimeoutMs} ms`, options.replicas, acked, { address: conn.address });
      }
      return reply;
    });
  }
}
