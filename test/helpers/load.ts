/**
 * A read/write load for chaos tests, recording what users feel: every error
 * surfaced, every acknowledged write, every read that did not return the last
 * acknowledged value, and per-operation latency tagged with the key's slot.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { slotOf } from '../../lib/index.js';

/** What the load needs of a client: ClusterClient, or slotwise/ioredis' Cluster. */
export interface LoadClient {
  set(key: string, value: string): Promise<unknown>;
  get(key: string): Promise<string | null>;
}

export interface LoadOptions {
  /** Concurrent workers, each awaiting its own operations in sequence. */
  readonly workers: number;
  /** Keys per worker (each key is written and read by one worker only). */
  readonly keysPerWorker?: number;
  /** Prefix of every key. */
  readonly prefix?: string;
  /** Value padding, so MIGRATE moves real data. */
  readonly valueBytes?: number;
  /** Chooses where keys live: key `i` of a worker must satisfy it (e.g. to load the slots being moved). */
  readonly keyFilter?: (slot: number, index: number) => boolean;
}

/** One finished operation. */
export interface OpSample {
  readonly slot: number;
  /** `Date.now()` when the operation completed. */
  readonly at: number;
  readonly ms: number;
  readonly ok: boolean;
}

export interface LoadResult {
  readonly ops: number;
  readonly errors: readonly Error[];
  /** Reads that returned something other than the worker's last acknowledged write. */
  readonly staleReads: readonly string[];
  /** Last acknowledged value of every key written. */
  readonly acked: ReadonlyMap<string, string>;
  readonly samples: readonly OpSample[];
}

/** Runs until `stop()`; each iteration writes a fresh value, then reads it back. */
export class Load {
  readonly #client: LoadClient;
  readonly #opts: Required<LoadOptions>;
  readonly #keys: string[][] = [];
  readonly #acked = new Map<string, string>();
  readonly #errors: Error[] = [];
  readonly #stale: string[] = [];
  readonly #samples: OpSample[] = [];
  #ops = 0;
  #running = false;
  #workers: Promise<void>[] = [];

  constructor(client: LoadClient, opts: LoadOptions) {
    this.#client = client;
    this.#opts = { keysPerWorker: 50, prefix: 'load', valueBytes: 64, keyFilter: () => true, ...opts };
    for (let w = 0; w < this.#opts.workers; w++) {
      const keys: string[] = [];
      for (let i = 0; i < this.#opts.keysPerWorker; i++) {
        let n = 0;
        let key = `${this.#opts.prefix}:${w}:${i}`;
        while (!this.#opts.keyFilter(slotOf(key), i)) key = `${this.#opts.prefix}:${w}:${i}:${++n}`;
        keys.push(key);
      }
      this.#keys.push(keys);
    }
  }

  /** Keys this load writes (stable: worker w, index i). */
  keys(): string[] {
    return this.#keys.flat();
  }

  get ops(): number {
    return this.#ops;
  }

  get errors(): readonly Error[] {
    return this.#errors;
  }

  start(): this {
    this.#running = true;
    this.#workers = Array.from({ length: this.#opts.workers }, (_, w) => this.#worker(w));
    return this;
  }

  async stop(): Promise<LoadResult> {
    this.#running = false;
    await Promise.all(this.#workers);
    return { ops: this.#ops, errors: this.#errors, staleReads: this.#stale, acked: this.#acked, samples: this.#samples };
  }

  async #worker(w: number): Promise<void> {
    const pad = 'x'.repeat(this.#opts.valueBytes);
    let seq = 0;
    while (this.#running) {
      const key = this.#keys[w]![seq % this.#opts.keysPerWorker]!;
      const slot = slotOf(key);
      const value = `${w}:${seq}:${pad}`;
      seq++;
      let t = Date.now();
      try {
        await this.#client.set(key, value);
        this.#acked.set(key, value);
        this.#sample(slot, t, true);
        t = Date.now();
        const got = await this.#client.get(key);
        if (got !== value) this.#stale.push(`${key}: read ${String(got).slice(0, 20)}… after acknowledged ${value.slice(0, 20)}…`);
        this.#sample(slot, t, true);
      } catch (err) {
        this.#errors.push(err as Error);
        this.#sample(slot, t, false);
        // Pacing, like a service that backs off after a failure: a fast-failing
        // shard must not turn this worker into a busy loop that starves the others.
        await delay(5);
      }
    }
  }

  #sample(slot: number, start: number, ok: boolean): void {
    const at = Date.now();
    this.#ops++;
    this.#samples.push({ slot, at, ms: at - start, ok });
  }
}

/** Keys whose last acknowledged value is not what the cluster returns now. */
export async function lostWrites(client: LoadClient, acked: ReadonlyMap<string, string>): Promise<string[]> {
  const keys = [...acked.keys()];
  const lost: string[] = [];
  for (let i = 0; i < keys.length; i += 500) {
    const batch = keys.slice(i, i + 500);
    const values = await Promise.all(batch.map((k) => client.get(k)));
    batch.forEach((k, j) => {
      if (values[j] !== acked.get(k)) lost.push(k);
    });
  }
  return lost;
}

/** The p-th percentile (0–100) of latencies. */
export function percentile(ms: readonly number[], p: number): number {
  if (ms.length === 0) return NaN;
  const sorted = [...ms].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A readable summary of errors for assertion messages. */
export function describeErrors(errors: readonly Error[], max = 5): string {
  const counts = new Map<string, number>();
  for (const e of errors) {
    const k = `${(e as { code?: string }).code ?? e.name}: ${e.message.slice(0, 160)}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].slice(0, max).map(([k, n]) => `${n}× ${k}`).join('\n');
}
