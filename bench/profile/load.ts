/**
 * One client under the router bench's load, with a V8 CPU profile of the
 * measured window only (cluster start-up, module loading and warm-up left out):
 *   tsx bench/profile/load.ts [slotwise|ioredis-autopipeline|bare-socket] [concurrency] [out.cpuprofile]
 *   tsx bench/profile/summary.ts out.cpuprofile
 * 50/50 GET/SET, 100-byte values, a fresh 3×1 cluster; BENCH_DURATION_MS (default 4000).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { openClient, type ClientKind } from '../clients.js';
import { closedLoop, withBenchCluster } from '../harness.js';

const kind = (process.argv[2] ?? 'slotwise') as ClientKind;
const concurrency = Number(process.argv[3] ?? 256);
const out = process.argv[4] ?? `.tmp/${kind}-c${concurrency}.cpuprofile`;
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 4000);
const VALUE = 'x'.repeat(100);

await withBenchCluster({ masters: 3, replicas: 1 }, async (cluster) => {
  const c = await openClient(kind, cluster.getRootNodes());
  const op = (w: number, i: number) => {
    const k = `bench:${(w * 7919 + i) % 10_000}`;
    return i % 2 === 0 ? c.set(k, VALUE) : c.get(k);
  };
  await closedLoop(concurrency, 1000, op, 0);
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  const r = await closedLoop(concurrency, DURATION_MS, op, 0);
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  writeFileSync(out, JSON.stringify(profile));
  await c.close();
  console.log(`${kind} C=${concurrency}: ${r.opsPerSec} ops/s, ${r.cpuUsPerOp} µs CPU/op, p99 ${r.p99Ms} ms, errors ${r.errors} (profile: ${out}; the profiler itself costs some CPU)`);
});
