/**
 * The cache bench's workload (bench/scenarios/cache.ts: 95/5 GET/SET, Zipf
 * keys over 100,000 keys, 64 in flight) for ONE slotwise client: ops/s, CPU
 * per op (user and system), GC time, socket writes, the cache's counters and
 * one hot key's hit cost; optionally a V8 CPU profile of the measured window:
 *   tsx bench/profile/cache.ts [cache|nocache] [out.cpuprofile]
 *   tsx bench/profile/summary.ts out.cpuprofile
 * BENCH_DURATION_MS (default 4000); CACHE_WRITE_EVERY=n makes every n-th
 * operation a SET (default 20); CACHE_PROFILE_MARK=1 prints the pid when the
 * measured window starts (for `perf record -p`, with NODE_OPTIONS=--perf-basic-prof).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { Socket } from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';
import { ClusterClient } from '../../lib/index.js';
import { closedLoop, withBenchCluster } from '../harness.js';
import { CONCURRENCY, hitCost, KEY_NAMES, KEYS, seed, warm, workload, zipfSamples, ZIPF_S } from '../scenarios/cache.js';

const mode = process.argv[2] ?? 'cache';
const out = process.argv[3];
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 4000);

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

await withBenchCluster({ masters: 3, replicas: 1 }, async (cluster) => {
  const roots = cluster.getRootNodes();
  await (await seed(roots)).quit();
  const c = new ClusterClient({ rootNodes: roots, commandTimeoutMs: 30_000, ...(mode === 'cache' ? { clientSideCache: { maxEntries: KEYS } } : {}) });
  await c.connect();
  if (mode === 'cache') await warm((k) => c.get(k));
  const samples = zipfSamples(KEYS, 1 << 20, ZIPF_S);
  const op = workload(c, samples);
  await closedLoop(CONCURRENCY, 1000, op, 0);
  const session = out === undefined ? undefined : new Session();
  if (session !== undefined) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  // Socket writes in the measured window: how many commands share one write.
  let writes = 0;
  const write = Socket.prototype.write;
  Socket.prototype.write = function (this: Socket, ...a: unknown[]) {
    writes++;
    return (write as (...x: unknown[]) => boolean).apply(this, a);
  } as typeof write;
  const s0 = c.cacheStats();
  const gc0 = gcMs;
  if (process.env.CACHE_PROFILE_MARK) console.log(`MEASURING pid ${process.pid}`);
  const cpu0 = process.cpuUsage();
  const r = await closedLoop(CONCURRENCY, DURATION_MS, op, 0);
  const cpu = process.cpuUsage(cpu0);
  const s1 = c.cacheStats();
  Socket.prototype.write = write;
  const gc = gcMs - gc0;
  if (session !== undefined) {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    writeFileSync(out!, JSON.stringify(profile));
  }
  const hitUs = mode === 'cache' ? await hitCost(() => c.get(KEY_NAMES[0]!)) : undefined;
  await c.quit();
  const d = Object.fromEntries(Object.entries(s1).map(([k, v]) => [k, typeof v === 'number' ? v - ((s0 as unknown as Record<string, number>)[k] ?? 0) : v]));
  const reads = (d.hits ?? 0) + (d.misses ?? 0);
  console.log(`${mode}: ${r.opsPerSec} ops/s, ${r.cpuUsPerOp} µs CPU/op, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, errors ${r.errors}, GC ${(gc / DURATION_MS * 100).toFixed(1)} % of wall`);
  console.log(`  user ${(cpu.user / r.ops).toFixed(2)} µs/op, system ${(cpu.system / r.ops).toFixed(2)} µs/op (whole loop incl. its shutdown)`);
  console.log(`  socket writes ${writes} (${(r.ops / writes).toFixed(1)} ops per write)`);
  if (hitUs !== undefined) console.log(`  one cached key read back to back: ${hitUs} µs CPU per hit`);
  if (mode === 'cache') console.log(`  reads ${reads}, hit ratio ${(100 * (d.hits ?? 0) / Math.max(1, reads)).toFixed(1)} %, delta stats ${JSON.stringify(d)}`);
  if (out !== undefined) console.log(`  profile: ${out}`);
});
