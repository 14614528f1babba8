/**
 * Client-side cache (issue #15): a read-heavy workload — 95 % GET / 5 % SET,
 * keys drawn from a Zipf distribution (s = 0.99) over 100,000 keys, 100-byte
 * values, 64 in flight — on ONE fresh 3×1 cluster, for:
 *   - slotwise without the cache,
 *   - slotwise with `clientSideCache: { maxEntries: 100_000 }`,
 *   - node-redis cluster with its `clientSideCache` (RESP3, LRU, 100,000 entries).
 * Plus the client CPU cost of one cache hit (one hot key, awaited in a loop).
 */
import { createCluster } from 'redis';
import { ClusterClient } from '../../lib/index.js';
import { closedLoop, round, withBenchCluster, writeReport, type LoopResult, type Measurement } from '../harness.js';

export const KEYS = 100_000;
const VALUE = 'x'.repeat(100);
export const CONCURRENCY = 64;
export const ZIPF_S = 0.99;
/** Every WRITE_EVERY-th operation is a SET (20: 95/5); bench/profile/cache.ts varies it through CACHE_WRITE_EVERY. */
const WRITE_EVERY = Number(process.env.CACHE_WRITE_EVERY ?? 20);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const HIT_LOOP = 200_000;
const key = (i: number) => `cache-bench:${i}`;
/** Key strings built once: building them per operation would be the harness' CPU, not the client's. */
export const KEY_NAMES = Array.from({ length: KEYS }, (_, i) => key(i));

/** Pre-drawn Zipf samples (rank 0 most frequent), so drawing costs one array read per operation. */
export function zipfSamples(n: number, count: number, s: number): Uint32Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / (i + 1) ** s;
  const out = new Uint32Array(count);
  for (let j = 0; j < count; j++) {
    const u = Math.random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    out[j] = lo;
  }
  return out;
}

interface Rw {
  get(k: string): Promise<unknown>;
  set(k: string, v: string): Promise<unknown>;
}

export function workload(c: Rw, samples: Uint32Array): (w: number, i: number) => Promise<unknown> {
  let n = 0;
  return () => {
    const j = n++;
    const k = KEY_NAMES[samples[j & (samples.length - 1)]!]!;
    // Every 20th operation is a write: 95/5.
    return j % WRITE_EVERY === 0 ? c.set(k, VALUE) : c.get(k);
  };
}

/** Client CPU µs per cache hit: one hot key read back to back (after it is cached). */
export async function hitCost(get: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 1000; i++) await get();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < HIT_LOOP; i++) await get();
  const cpu = process.cpuUsage(cpu0);
  return round((cpu.user + cpu.system) / HIT_LOOP, 3);
}

/** Reads every key once (1,000 in flight), so each cache starts the measured run warm. */
export async function warm(get: (k: string) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < KEYS; i += 1000) {
    const batch: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(KEYS, i + 1000); j++) batch.push(get(key(j)));
    await Promise.all(batch);
  }
}

/** Writes every key once; returns the (uncached) client that did it, connected. */
export async function seed(roots: readonly { host: string; port: number }[]): Promise<ClusterClient> {
  const c = new ClusterClient({ rootNodes: [...roots], commandTimeoutMs: 30_000 });
  await c.connect();
  for (let i = 0; i < KEYS; i += 1000) {
    const p = c.pipeline();
    for (let j = i; j < Math.min(KEYS, i + 1000); j++) p.set(key(j), VALUE);
    await p.exec();
  }
  return c;
}

function row(client: string, r: LoopResult, extra: Record<string, number | string>): Measurement {
  console.log(`  ${client}: ${r.opsPerSec} ops/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, errors ${r.errors}, CPU ${r.cpuUsPerOp} µs/op ${JSON.stringify(extra)}`);
  return {
    client, scenario: `95/5 zipf ${KEYS / 1000}k keys C=${CONCURRENCY}`, ops: r.ops, opsPerSec: r.opsPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms, errors: r.errors,
    extra: { 'CPU µs/op': r.cpuUsPerOp, ...extra },
  };
}

export async function run(): Promise<void> {
  const measurements: Measurement[] = [];
  const samples = zipfSamples(KEYS, 1 << 20, ZIPF_S);
  await withBenchCluster({ masters: 3, replicas: 1 }, async (cluster) => {
    const roots = cluster.getRootNodes();
    const plainClient = await seed(roots);
    const plain = await closedLoop(CONCURRENCY, DURATION_MS, workload(plainClient, samples));
    measurements.push(row('slotwise (no cache)', plain, {}));
    await plainClient.quit();

    const cached = new ClusterClient({ rootNodes: roots, commandTimeoutMs: 30_000, clientSideCache: { maxEntries: KEYS } });
    await cached.connect();
    await warm((k) => cached.get(k));
    const s0 = cached.cacheStats();
    const withCache = await closedLoop(CONCURRENCY, DURATION_MS, workload(cached, samples));
    const s1 = cached.cacheStats();
    const s = { hits: s1.hits - s0.hits, misses: s1.misses - s0.misses, shared: s1.sharedReads - s0.sharedReads };
    const reads = Math.max(1, s.hits + s.misses);
    // Commands that reached Redis per operation: the writes plus the reads
    // that made their own round trip. Its inverse bounds the speed-up even if
    // hits cost nothing and a command cost no more than without the cache.
    // (The counters also cover the loop's unmeasured warm-up: ratios only.)
    const netPerOp = 1 / WRITE_EVERY + (1 - 1 / WRITE_EVERY) * ((s.misses - s.shared) / reads);
    const hitUs = await hitCost(() => cached.get(KEY_NAMES[0]!));
    measurements.push(row('slotwise + clientSideCache', withCache, {
      'hit ratio': `${round((100 * s.hits) / reads, 1)} %`,
      'no own trip': `${round((100 * (s.hits + s.shared)) / reads, 1)} %`,
      'hit CPU µs': hitUs,
      'vs no cache': `${round(withCache.opsPerSec / Math.max(1, plain.opsPerSec), 2)}×`,
      'CPU/op vs no cache': `${round(plain.cpuUsPerOp / Math.max(0.001, withCache.cpuUsPerOp), 2)}×`,
      'to Redis per op': round(netPerOp, 3),
      'ceiling': `${round(1 / Math.max(0.001, netPerOp), 1)}×`,
    }));
    await cached.quit();

    const nr = createCluster({
      rootNodes: roots.map((r) => ({ url: `redis://${r.host}:${r.port}` })),
      RESP: 3,
      clientSideCache: { maxEntries: KEYS, evictPolicy: 'LRU' },
    });
    nr.on('error', () => undefined);
    await nr.connect();
    await warm((k) => nr.get(k));
    const nrRun = await closedLoop(CONCURRENCY, DURATION_MS, workload({ get: (k) => nr.get(k), set: (k, v) => nr.set(k, v) }, samples));
    const nrHitUs = await hitCost(() => nr.get(KEY_NAMES[0]!));
    measurements.push(row('node-redis cluster + clientSideCache', nrRun, { 'hit CPU µs': nrHitUs }));
    await nr.close().catch(() => nr.destroy());
  });
  writeReport({
    name: 'cache',
    title: 'Client-side cache: 95/5 read/write, Zipf keys',
    command: 'npm run bench -- cache',
    setup: `Fresh 3 masters × 1 replica cluster; ${KEYS} keys of ${VALUE.length} bytes seeded; 95 % GET / 5 % SET, keys drawn Zipf(s = ${ZIPF_S}), ` +
      `${CONCURRENCY} in flight, ${DURATION_MS / 1000} s closed loop per client after a warm-up; caches sized for every key (${KEYS} entries) and warmed by reading every key once. ` +
      `"hit ratio": reads answered from memory; "no own trip": those plus shared reads (a miss that waited for the same read already on its way for another caller, see cacheStats().sharedReads); ` +
      `"hit CPU µs": client CPU per GET of one cached key, awaited ${HIT_LOOP} times in a row; "CPU/op vs no cache": client CPU per operation without the cache ÷ with it ` +
      '(the speed-up a CPU-bound client gets; ops/s also depends on how much CPU the shared machine leaves the client); ' +
      '"to Redis per op": writes plus reads that made their own round trip, per operation; "ceiling": its inverse, the most the cache could gain ' +
      'if hits and shared reads cost nothing and each command cost what it costs without the cache (see docs/19-client-side-cache.md, "Speed").',
    measurements,
    notes: 'Numbers from a shared 2-core machine are indicative only; the lead re-runs benchmarks on an idle machine.',
  });
}
