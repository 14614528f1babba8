/**
 * The cost of the drop-in: slotwise's ClusterClient vs the ioredis-compatible
 * Cluster from slotwise/ioredis (same router underneath), in ONE run on ONE
 * fresh 3×1 cluster. Mixed GET/SET (50/50, 100-byte values) at 1, 64 and 256
 * in flight. Both are configured alike (10 s command deadline).
 *
 * Paired short slices, not long runs: on a 2-core machine shared with other
 * work, two 5 s runs of the SAME client differ by ±30 %, far more than the
 * issue's 3 % bar. So both clients stay connected and run BENCH_PAIRS pairs
 * of BENCH_SLICE_MS slices back to back (order alternating); each pair
 * yields one shim/ClusterClient ratio measured under nearly the same load,
 * and the report gives the median of those ratios (and its interquartile
 * range) next to each client's mean.
 *
 * `npm run bench -- ioredis-shim`; BENCH_PAIRS and BENCH_SLICE_MS shorten it.
 */
import { ClusterClient } from '../../lib/index.js';
import { Cluster } from '../../lib/ioredis/index.js';
import { closedLoop, meanOfRuns, round, withBenchCluster, writeReport, type LoopResult, type Measurement } from '../harness.js';

const KEYS = 10_000;
const VALUE = 'x'.repeat(100);
const SLICE_MS = Number(process.env.BENCH_SLICE_MS ?? 600);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 24);
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

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Median and interquartile range of per-pair ratios, as signed percentages. */
function pairedChange(ratios: number[]): { median: string; iqr: string } {
  const s = [...ratios].sort((a, b) => a - b);
  const pct = (r: number) => `${r >= 1 ? '+' : ''}${round((r - 1) * 100, 1)} %`;
  return { median: pct(quantile(s, 0.5)), iqr: `${pct(quantile(s, 0.25))} … ${pct(quantile(s, 0.75))}` };
}

export async function run(): Promise<void> {
  const measurements: Measurement[] = [];
  await withBenchCluster({ masters: 3, replicas: 1 }, async (cluster) => {
    const roots = cluster.getRootNodes();
    const seed = new ClusterClient({ rootNodes: roots });
    for (let i = 0; i < KEYS; i += 500) await Promise.all(Array.from({ length: 500 }, (_, j) => seed.set(`bench:${i + j}`, VALUE)));
    await seed.quit();
    const clients = new Map<string, GetSet>([[BASE, await open(BASE, roots)], [SHIM, await open(SHIM, roots)]]);
    const slice = (name: string, concurrency: number, warmupMs: number) => {
      const c = clients.get(name)!;
      return closedLoop(concurrency, SLICE_MS, (w, i) => {
        const k = `bench:${(w * 7919 + i) % KEYS}`;
        return i % 2 === 0 ? c.set(k, VALUE) : c.get(k);
      }, warmupMs);
    };
    for (const concurrency of [1, 64, 256]) {
      // One longer warm-up each, so the JIT has seen both paths before the first pair.
      for (const name of [BASE, SHIM]) await slice(name, concurrency, 1000);
      const runs = new Map<string, LoopResult[]>([[BASE, []], [SHIM, []]]);
      const opsRatios: number[] = [];
      const cpuRatios: number[] = [];
      for (let p = 0; p < PAIRS; p++) {
        const pair = new Map<string, LoopResult>();
        // Alternate the order so neither always runs first in a pair.
        for (const name of p % 2 === 0 ? [BASE, SHIM] : [SHIM, BASE]) pair.set(name, await slice(name, concurrency, 100));
        const base = pair.get(BASE)!;
        const shim = pair.get(SHIM)!;
        runs.get(BASE)!.push(base);
        runs.get(SHIM)!.push(shim);
        opsRatios.push(shim.opsPerSec / base.opsPerSec);
        cpuRatios.push(shim.cpuUsPerOp / base.cpuUsPerOp);
      }
      const ops = pairedChange(opsRatios);
      const cpu = pairedChange(cpuRatios);
      console.log(`  C=${concurrency}: shim vs ClusterClient ops/s median ${ops.median} (IQR ${ops.iqr}), CPU/op median ${cpu.median} (IQR ${cpu.iqr})`);
      for (const [name, rs] of runs) {
        const row = meanOfRuns(name, `GET/SET C=${concurrency}`, rs);
        const { runs: _all, ...extra } = row.extra ?? {};
        measurements.push({
          ...row,
          extra: name === SHIM
            ? { ...extra, 'ops/s vs ClusterClient (median of pairs)': ops.median, 'its IQR': ops.iqr, 'CPU/op vs ClusterClient (median)': cpu.median }
            : extra,
        });
      }
    }
    for (const c of clients.values()) await c.quit();
  });
  writeReport({
    name: 'ioredis-shim',
    title: 'slotwise/ioredis (the drop-in) vs ClusterClient, same run',
    command: 'npm run bench -- ioredis-shim',
    setup:
      `One fresh cluster of 3 masters × 1 replica (node timeout 2 s). Closed loop, 50/50 GET/SET over ${KEYS} keys, 100-byte values. ` +
      `Both clients stay connected; per concurrency ${PAIRS} pairs of ${SLICE_MS} ms slices (100 ms warm-up each, order alternating within pairs), ` +
      'after one 1 s warm-up per client. Rows give each client\'s mean over its slices; the shim row gives the median and interquartile range of the ' +
      'per-pair ratios (shim ÷ ClusterClient, measured seconds apart under the same machine load) — the figure the 3 % bar is judged on.',
    measurements,
  });
}
