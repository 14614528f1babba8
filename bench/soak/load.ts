/**
 * The soak's load: `workers` closed-loop workers, each owning its keys, each
 * iteration a SET of a fresh value then a GET of it. Tracks what users feel:
 * every error (kind, time), every acknowledged write (to check none is lost),
 * reads that do not return the last acknowledged value, and latency per
 * minute in a fixed histogram (constant memory for any duration).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { slotOf, type ClusterClient } from '../../lib/index.js';

/** Latency buckets: 0.1 ms steps to 100 ms, then 10 ms steps to 30 s. */
const FINE = 1000;
const COARSE = 2990;

class Histogram {
  readonly counts = new Uint32Array(FINE + COARSE + 1);
  n = 0;
  add(ms: number): void {
    const i = ms < 100 ? Math.floor(ms * 10) : Math.min(FINE + COARSE, FINE + Math.floor((ms - 100) / 10));
    this.counts[i]!++;
    this.n++;
  }
  percentile(p: number): number {
    if (this.n === 0) return NaN;
    const want = Math.ceil((p / 100) * this.n);
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= want) return i < FINE ? (i + 1) / 10 : 100 + (i - FINE + 1) * 10;
    }
    return NaN;
  }
}

/** One surfaced error. */
export interface SoakError {
  readonly at: number;
  readonly kind: string;
  readonly op: 'SET' | 'GET';
  readonly message: string;
}

/** A GET that did not return the value the same worker's SET had just had acknowledged. */
export interface StaleRead {
  readonly at: number;
  readonly text: string;
}

export interface MinuteStats {
  readonly minute: number;
  readonly ops: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly errors: number;
}

/** Keep at most this many errors in full (all are counted). */
const ERRORS_KEPT = 2000;

export class SoakLoad {
  readonly #client: ClusterClient;
  readonly #workers: number;
  readonly #keys: string[][] = [];
  /** Last acknowledged value per key. */
  readonly acked = new Map<string, string>();
  /** A write that failed may or may not have been applied: its value is also acceptable later. */
  readonly #maybe = new Map<string, string>();
  readonly errors: SoakError[] = [];
  readonly errorCounts = new Map<string, number>();
  /** The first stale reads in full (all are counted in `staleTotal`). */
  readonly stale: StaleRead[] = [];
  staleTotal = 0;
  readonly #minutes: Array<{ h: Histogram; max: number; errors: number }> = [];
  readonly #started = Date.now();
  ops = 0;
  errorTotal = 0;
  #running = false;
  #loops: Promise<void>[] = [];

  constructor(client: ClusterClient, workers: number, keysPerWorker: number, valueBytes: number) {
    this.#client = client;
    this.#workers = workers;
    this.#pad = 'x'.repeat(valueBytes);
    for (let w = 0; w < workers; w++) this.#keys.push(Array.from({ length: keysPerWorker }, (_, i) => `soak:${w}:${i}`));
  }

  readonly #pad: string;

  start(): this {
    this.#running = true;
    this.#loops = Array.from({ length: this.#workers }, (_, w) => this.#worker(w));
    return this;
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }

  /** Per-minute latency and error figures so far. */
  minutes(): MinuteStats[] {
    return this.#minutes.map((m, minute) => ({
      minute,
      ops: m?.h.n ?? 0,
      p50Ms: m?.h.percentile(50) ?? NaN,
      p99Ms: m?.h.percentile(99) ?? NaN,
      maxMs: m?.max ?? 0,
      errors: m?.errors ?? 0,
    }));
  }

  /**
   * Writes `n` keys once, before the load starts, never to be written again: the load's own keys
   * are rewritten every few seconds, which hides a shard that lost its data (the end check then
   * only sees the newer values). These show whether any data written long ago survived every fault.
   */
  async writeStill(n: number): Promise<void> {
    for (let i = 0; i < n; i++) this.#still.set(`soak:still:${i}`, `still:${i}:${this.#pad}`);
    const entries = [...this.#still];
    for (let i = 0; i < entries.length; i += 256) await Promise.all(entries.slice(i, i + 256).map(([k, v]) => this.#client.set(k, v)));
  }

  get stillKeys(): number {
    return this.#still.size;
  }

  /** Still keys (see writeStill) that no longer hold the value written at the start. */
  async lostStill(): Promise<string[]> {
    const keys = [...this.#still.keys()];
    const lost: string[] = [];
    for (let i = 0; i < keys.length; i += 256) {
      const batch = keys.slice(i, i + 256);
      const values = await Promise.all(batch.map((k) => this.#client.get(k)));
      batch.forEach((k, j) => {
        if (values[j] !== this.#still.get(k)) lost.push(`${k} (slot ${slotOf(k)}): ${String(values[j]).slice(0, 24)}`);
      });
    }
    return lost;
  }

  readonly #still = new Map<string, string>();

  /** Keys whose value now is neither the last acknowledged one nor a failed write's (which may have applied). */
  async lostWrites(): Promise<string[]> {
    const keys = [...this.acked.keys()];
    const lost: string[] = [];
    for (let i = 0; i < keys.length; i += 256) {
      const batch = keys.slice(i, i + 256);
      const values = await Promise.all(batch.map((k) => this.#client.get(k)));
      batch.forEach((k, j) => {
        if (values[j] !== this.acked.get(k) && values[j] !== this.#maybe.get(k)) lost.push(`${k}: ${String(values[j]).slice(0, 24)} (acked ${this.acked.get(k)!.slice(0, 24)})`);
      });
    }
    return lost;
  }

  #minute(at: number) {
    const i = Math.floor((at - this.#started) / 60_000);
    while (this.#minutes.length <= i) this.#minutes.push({ h: new Histogram(), max: 0, errors: 0 });
    return this.#minutes[i]!;
  }

  #record(start: number): void {
    const now = performance.now();
    const ms = now - start;
    const m = this.#minute(Date.now());
    m.h.add(ms);
    if (ms > m.max) m.max = ms;
    this.ops++;
  }

  #error(op: 'SET' | 'GET', err: unknown): void {
    const e = err as Error & { code?: string };
    const kind = e.code ?? e.name ?? 'Error';
    this.errorTotal++;
    this.errorCounts.set(kind, (this.errorCounts.get(kind) ?? 0) + 1);
    this.#minute(Date.now()).errors++;
    if (this.errors.length < ERRORS_KEPT) this.errors.push({ at: Date.now(), kind, op, message: String(e.message).slice(0, 300) });
  }

  async #worker(w: number): Promise<void> {
    const keys = this.#keys[w]!;
    let seq = 0;
    while (this.#running) {
      const key = keys[seq % keys.length]!;
      const value = `${w}:${seq}:${this.#pad}`;
      seq++;
      let t = performance.now();
      try {
        await this.#client.set(key, value);
      } catch (err) {
        this.#maybe.set(key, value);
        this.#error('SET', err);
        await delay(5); // a failing shard must not turn a worker into a busy loop
        continue;
      }
      this.acked.set(key, value);
      this.#maybe.delete(key);
      this.#record(t);
      t = performance.now();
      try {
        const got = await this.#client.get(key);
        if (got !== value) {
          this.staleTotal++;
          if (this.stale.length < ERRORS_KEPT) this.stale.push({ at: Date.now(), text: `${key} (slot ${slotOf(key)}): read ${String(got).slice(0, 24)} after acknowledged ${value.slice(0, 24)}` });
        }
        this.#record(t);
      } catch (err) {
        this.#error('GET', err);
        await delay(5);
      }
    }
  }
}
