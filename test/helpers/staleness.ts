/**
 * The staleness check of the client-side cache (issue #15): a plain ioredis
 * Cluster client writes increasing versions to a set of keys while a caching
 * slotwise client reads them; every read is checked against the writer's
 * acknowledgements.
 *
 * Definition. For a read of key k that began at time t (same process clock
 * as the writer's acknowledgements) and returned version v: let w be the
 * highest version of k whose SET was acknowledged at or before t − GRACE_MS
 * and that was not lost. The read is STALE when v < w.
 *
 * A version is LOST when the cluster forgot an acknowledged write (kill -9:
 * asynchronous replication). The writer tells: every SET uses `SET k v GET`,
 * so it sees the previous value; a previous value below the last version it
 * had acknowledged for k means the versions in between were lost. A final
 * sweep reads every key once more. A read that is old only because of a
 * lost version is counted apart (lostWriteReads), not as stale.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToIo } from 'node:timers/promises';
import { Cluster } from 'ioredis';
import type { ClusterClient } from '../../lib/index.js';
/** Where a root node listens. */
interface NodeAddress {
  readonly host: string;
  readonly port: number;
}

/** The bound: reads beginning this long after an acknowledgement must see it (reported). */
export const GRACE_MS = 20;
/**
 * The bound the chaos suite asserts. Redis writes the writer's reply and the
 * invalidation in two writes of one event-loop turn; on an overloaded host
 * (load average 17 on 2 cores was seen) the server can be descheduled between
 * them for tens of ms, which no client can see past. A missing invalidation
 * shows as staleness of seconds (hundreds of thousands of stale reads when
 * invalidations are ignored), far above this.
 */
export const HARD_GRACE_MS = 250;

interface KeyLog {
  /** Acknowledged versions and when (ascending in both: one writer per key, sequential). */
  readonly versions: number[];
  readonly ackedAt: number[];
  /** Versions the cluster lost. */
  readonly lost: Set<number>;
  next: number;
}

interface Suspect {
  readonly k: number;
  readonly startedAt: number;
  readonly got: number;
}

/** What one run measured. */
export interface StalenessReport {
  readonly reads: number;
  readonly readErrors: string[];
  readonly writes: number;
  readonly writeErrors: number;
  /** Reads older than a version acknowledged (and not lost) more than GRACE_MS before they began. */
  readonly stale: { key: string; startedAt: number; got: number; expectedAtLeast: number; lagMs: number }[];
  /** The same with HARD_GRACE_MS (must be 0). */
  readonly staleHard: StalenessReport['stale'];
  /** Reads old only because the cluster lost acknowledged versions. */
  readonly lostWriteReads: number;
  readonly lostVersions: number;
}

export class StalenessRun {
  readonly keys: string[];
  readonly #logs: KeyLog[];
  readonly #writer: Cluster;
  readonly #reader: ClusterClient;
  #stopping = false;
  #loops: Promise<void>[] = [];
  reads = 0;
  readonly readErrors: string[] = [];
  writes = 0;
  writeErrors = 0;
  readonly #suspects: Suspect[] = [];
  /** Problems found by `afterRead` (e.g. the cache over its byte bound). */
  readonly problems: string[] = [];
  /** Runs after every read; a returned string is recorded in `problems`. */
  afterRead: (() => string | undefined) | undefined;

  constructor(roots: readonly NodeAddress[], reader: ClusterClient, keyCount: number, prefix: string) {
    this.keys = Array.from({ length: keyCount }, (_, i) => `${prefix}:${i}`);
    this.#logs = this.keys.map(() => ({ versions: [], ackedAt: [], lost: new Set<number>(), next: 1 }));
    this.#writer = new Cluster(roots.map((r) => ({ host: r.host, port: r.port })), { lazyConnect: true });
    this.#writer.on('error', () => undefined);
    this.#reader = reader;
  }

  /** Seeds version 1 of every key (acknowledged before any read). */
  async seed(): Promise<void> {
    await this.#writer.connect();
    for (let k = 0; k < this.keys.length; k++) await this.#write(k);
  }

  async #write(k: number): Promise<void> {
    const log = this.#logs[k]!;
    const v = log.next++;
    try {
      const prev = (await this.#writer.set(this.keys[k]!, String(v), 'GET')) as string | null;
      const at = performance.now();
      this.#noteSurvivor(log, prev === null ? 0 : Number(prev));
      log.versions.push(v);
      log.ackedAt.push(at);
      this.writes++;
    } catch {
      // Not acknowledged: may or may not have been applied (a newer value is never stale).
      this.writeErrors++;
    }
  }

  /** The cluster holds `survivor` for a key: acknowledged versions above it that it does not hold were lost. */
  #noteSurvivor(log: KeyLog, survivor: number): void {
    for (let i = log.versions.length - 1; i >= 0 && log.versions[i]! > survivor; i--) log.lost.add(log.versions[i]!);
  }

  /** Starts `writers` sequential writers (each owns keys k ≡ i mod writers) and `readers` reading loops. */
  start(writers: number, readers: number): this {
    for (let w = 0; w < writers; w++) this.#loops.push(this.#writeLoop(w, writers));
    for (let r = 0; r < readers; r++) this.#loops.push(this.#readLoop());
    return this;
  }

  async #writeLoop(w: number, writers: number): Promise<void> {
    const mine = this.keys.map((_, k) => k).filter((k) => k % writers === w);
    while (!this.#stopping) {
      await this.#write(mine[Math.floor(Math.random() * mine.length)]!);
    }
  }

  async #readLoop(): Promise<void> {
    while (!this.#stopping) {
      const k = Math.floor(Math.random() * this.keys.length);
      const startedAt = performance.now();
      try {
        const got = Number(await this.#reader.get(this.keys[k]!));
        this.reads++;
        if (got < this.#expected(k, startedAt, false)) this.#suspects.push({ k, startedAt, got });
      } catch (err) {
        this.reads++;
        this.readErrors.push(`${(err as Error).name}: ${(err as Error).message}`);
      }
      const problem = this.afterRead?.();
      if (problem !== undefined && this.problems.length < 10) this.problems.push(problem);
      // Cache hits resolve without I/O: without yielding, 32 loops of hits would
      // starve the sockets (invalidations included) — as they would in an app.
      await yieldToIo();
    }
  }

  /** Highest version of key k acknowledged at or before startedAt − GRACE_MS (skipping lost ones when asked). */
  #expected(k: number, startedAt: number, skipLost: boolean, graceMs = GRACE_MS): number {
    return this.#expectedAck(k, startedAt, skipLost, graceMs).version;
  }

  #expectedAck(k: number, startedAt: number, skipLost: boolean, graceMs: number): { version: number; at: number } {
    const log = this.#logs[k]!;
    const limit = startedAt - graceMs;
    for (let i = log.versions.length - 1; i >= 0; i--) {
      if (log.ackedAt[i]! > limit) continue;
      if (skipLost && log.lost.has(log.versions[i]!)) continue;
      return { version: log.versions[i]!, at: log.ackedAt[i]! };
    }
    return { version: 0, at: 0 };
  }

  /** Stops every loop, sweeps the final values for lost versions and classifies the suspects. */
  async stop(): Promise<StalenessReport> {
    this.#stopping = true;
    await Promise.all(this.#loops);
    this.#loops = [];
    for (let k = 0; k < this.keys.length; k++) {
      const v = await this.#writer.get(this.keys[k]!).catch(() => undefined);
      if (v !== undefined) this.#noteSurvivor(this.#logs[k]!, v === null ? 0 : Number(v));
    }
    await this.#writer.quit().catch(() => this.#writer.disconnect());
    const stale: StalenessReport['stale'] = [];
    const staleHard: StalenessReport['stale'] = [];
    let lostWriteReads = 0;
    for (const s of this.#suspects) {
      const expected = this.#expectedAck(s.k, s.startedAt, true, GRACE_MS);
      if (s.got >= expected.version) {
        lostWriteReads++;
        continue;
      }
      const row = { key: this.keys[s.k]!, startedAt: Math.round(s.startedAt), got: s.got, expectedAtLeast: expected.version, lagMs: Math.round(s.startedAt - expected.at) };
      stale.push(row);
      if (s.got < this.#expected(s.k, s.startedAt, true, HARD_GRACE_MS)) staleHard.push(row);
    }
    let lostVersions = 0;
    for (const log of this.#logs) lostVersions += log.lost.size;
    return { reads: this.reads, readErrors: this.readErrors, writes: this.writes, writeErrors: this.writeErrors, stale, staleHard, lostWriteReads, lostVersions };
  }
}
