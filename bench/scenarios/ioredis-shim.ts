/**
 * The cost of the drop-in: slotwise's ClusterClient vs the ioredis-compatible
 * Cluster from slotwise/ioredis (same router underneath), in ONE run on ONE
 * fresh 3×1 cluster. Mixed GET/SET (50/50, 100-byte values) at 1, 64 and 256
 * in flight; BENCH_ROUNDS interleaved runs per client and concurrency (order
 * alternates), each row their mean, with "vs ClusterClient" — the issue's
 * bar is within 3 %. Both are configured alike (10 s command deadline).
 *
 * `npm run bench -- ioredis-shim`; BENCH_DURATION_MS and BENCH_ROUNDS shorten it.
 */
import { ClusterClient } from '../../lib/index.js';
import { Cluster } from '../../lib/ioredis/index.js';
import { closedLoop, meanOfRuns, meanOpsPerSec, withBenchCluster, writeReport, type LoopResult, type Measurement } from '../harness.js';

const KEYS = 10_000;
const VALUE = 'x'.repeat(100);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const BASE = 'slotwise ClusterClient';
const SHIM = 'slotwise/ioredis Cluster';

/** The one operation both clients run: what the loop needs, and how to close. */
interface GetSet {
  get(key: string): Promise<unknown>;
  set(key: string, value: string): Promise<unknown>;
  quit(): Promise<unknown>;
}

async function open(name: string, roots: readonly { host: string; port: number }[]): Promise<GetSet> {
  if (name === BASE) {
    const c = new ClusterClient({ rootNodes: roots, commandTimeoutMs: 10_000 });
    await c.connect();
    return c;
  }
  const c = new Cluster(roots.map((r) => ({ host: r.host, port: r.port })), { lazyConnect: true, redisOptions: { commandTimeout: 10_000 } });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}


export async function run(): Promise<void> {
  const measurements: Measurement[] = [];
  await withBenchCluster({ masters: 3, replicas: 1 }, async (cluster) => {
    const roots = cluster.getRootNodes();
    const seed = new ClusterClient({ rootNodes: roots });
    for (let i = 0; i < KEYS; i += 500) await Promise.all(Array.from({ length: 500 }, (_, j) => seed.set(`bench:${i + j}`, VALUE)));
    await seed.quit();
    for (const concurrency of [1, 64, 256]) {
      const runs = new Map<string, LoopResult[]>([[BASE, []], [SHIM, []]]);
      for (let r = 0; r < ROUNDS; r++) {
        // Alternate the order so neither always runs on a warmer (or more tired) box.
        for (const name of r % 2 === 0 ? [BASE, SHIM] : [SHIM, BASE]) {
          const c = await open(name, roots);
          const res = await closedLoop(concurrency, DURATION_MS, (w, i) => {
            const k = `bench:${(w * 7919 + i) % KEYS}`;
            return i % 2 === 0 ? c.set(k, VALUE) : c.get(k);
          });
          await c.quit();
          runs.get(name)!.push(res);
          console.log(`  C=${concurrency} ${name}: ${res.opsPerSec} ops/s, ${res.cpuUsPerOp} µs CPU/op, p99 ${res.p99Ms} ms, errors ${res.errors}`);
        }
      }
      const baseOpsPerSec = meanOpsPerSec(runs.get(BASE)!);
      for (const [name, rs] of runs) {
        measurements.push(meanOfRuns(name, `GET/SET C=${concurrency}`, rs, { label: 'vs ClusterClient', baseOpsPerSec }));
      }
    }
  });
  writeReport({
    name: 'ioredis-shim',
    title: 'slotwise/ioredis (the drop-in) vs ClusterClient, same run',
    command: 'npm run bench -- ioredis-shim',
    setup:
      `One fresh cluster of 3 masters × 1 replica (node timeout 2 s). Closed loop, 50/50 GET/SET over ${KEYS} keys, 100-byte values; ` +
      `${DURATION_MS} ms measured per run after a warm-up; ${ROUNDS} interleaved runs per client and concurrency (order alternates), rows are their mean.`,
    measurements,
  });
}
