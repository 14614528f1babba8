/**
 * One session store under the sessions bench's load, with a V8 CPU profile of
 * the measured window only, and the masters' INFO commandstats for it:
 *   tsx bench/profile/sessions.ts [slotwise|connect-redis-7|connect-redis-9] [get|set|touch|request] [out.cpuprofile]
 *   tsx bench/profile/summary.ts out.cpuprofile
 * PROFILE=heap writes a sampling heap profile (.heapprofile) instead.
 * 64 in flight, 10,000 seeded sessions, a fresh 3×1 cluster; BENCH_DURATION_MS (default 3000).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { PerformanceObserver } from 'node:perf_hooks';
import { closedLoop, withBenchCluster } from '../harness.js';
import { open, ServerStats, SESSIONS, sessionData, type Kind } from '../scenarios/sessions.js';

const kind = (process.argv[2] ?? 'slotwise') as Kind;
const op = process.argv[3] ?? 'get';
const out = process.argv[4] ?? `.tmp/sessions-${kind}-${op}.cpuprofile`;
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);
let seq = 0;

await withBenchCluster({ masters: 3, replicas: 1 }, async (cluster) => {
  const bench = await open(kind, cluster.getRootNodes(), `bench:${kind}:`);
  for (let i = 0; i < SESSIONS; i += 500) await Promise.all(Array.from({ length: 500 }, (_, j) => bench.set(`s${i + j}`, sessionData(i + j))));
  const stats = new ServerStats(cluster.getRootNodes());
  let total = 0;
  const fn = async (w: number, i: number): Promise<unknown> => {
    total++;
    const id = `s${(w * 7919 + i * 31) % SESSIONS}`;
    switch (op) {
      case 'get': return bench.get(id);
      case 'set': return bench.set(id, sessionData(i));
      case 'touch': return bench.touch(id, sessionData(i));
      default: {
        const data = await bench.get(id);
        const s = bench.store.createSession({ sessionID: id } as never, data!) as unknown as Record<string, unknown>;
        s.lastSeen = ++seq;
        return bench.set(id, s as never);
      }
    }
  };
  await closedLoop(64, 1000, fn, 0);
  const cpu0 = await stats.reset();
  total = 0;
  const session = new Session();
  session.connect();
  // PROFILE=heap: a sampling heap profile of what is still allocated at the end of the window instead.
  const heap = process.env.PROFILE === 'heap';
  // PROFILE=none: no profiler at all (its own cost skews GC); the GC time of the window is reported.
  const none = process.env.PROFILE === 'none';
  let gcMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  gc.observe({ entryTypes: ['gc'] });
  if (!none) {
    await session.post(heap ? 'HeapProfiler.enable' : 'Profiler.enable');
    await session.post(heap ? 'HeapProfiler.startSampling' : 'Profiler.start', heap ? { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: process.env.MINOR !== '0' } : {});
  }
  const r = await closedLoop(64, DURATION_MS, fn, 0);
  gc.disconnect();
  const { profile } = none ? { profile: {} } : heap ? await session.post('HeapProfiler.stopSampling') : await session.post('Profiler.stop');
  session.disconnect();
  const server = await stats.since(cpu0, total);
  writeFileSync(out, JSON.stringify(profile));
  await bench.close();
  await stats.close();
  console.log(`${kind} ${op} C=64: ${r.opsPerSec} ops/s, client ${r.cpuUsPerOp} µs CPU/op, server ${server.cpuUsPerOp} µs CPU/op [${server.commands}], GC ${((gcMs * 1000) / Math.max(1, total)).toFixed(1)} µs/op, errors ${r.errors}${r.firstError ? ` (${r.firstError})` : ''} (profile: ${out})`);
});
