/**
 * Client memory under load: heap and RSS per in-flight command, and whether
 * either grows over a long run (issue #16's memory goal).
 *
 * 1. Growth: slotwise at 256 in flight for BENCH_MEMORY_MINUTES (default 10),
 *    sampled every 10 s, first in the run (no other client has been loaded);
 *    reports the first-minute mean, the largest deviation from it and the
 *    least-squares slope over the rest of the run.
 * 2. Per in-flight command: for slotwise, ioredis Cluster + autopipelining and
 *    node-redis, the heap retained (after a forced full GC, taken WHILE the
 *    commands are in flight) and RSS at 64, 256 and 1,024 in flight,
 *    minus the same client connected and idle, divided by the in-flight count.
 *
 * `npm run bench -- memory`; BENCH_MEMORY_MINUTES and BENCH_DURATION_MS shorten it.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { openClient, CLIENT_LABELS, type ClientKind } from '../clients.js';
import { closedLoop, round, withBenchCluster, writeReport, type Measurement } from '../harness.js';
import { performance } from 'node:perf_hooks';

const KEYS = 10_000;
const VALUE = 'x'.repeat(100);
const STEP_MS = Number(process.env.BENCH_DURATION_MS ?? 4000);
const MINUTES = Number(process.env.BENCH_MEMORY_MINUTES ?? 10);
const KINDS: ClientKind[] = ['slotwise', 'ioredis-autopipeline', 'node-redis'];
const LEVELS = [64, 256, 1024];
const MB = 1024 * 1024;

// A full GC on demand without requiring `node --expose-gc` from `npm run bench`.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function retained(): { heap: number; rss: number } {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

/**
 * A closed loop that keeps nothing per command (the harness' closedLoop keeps
 * every latency — megabytes in a long run, which would be measured as the
 * client's); memory is sampled at `atMs`, while every worker has a command in flight.
 */
async function loadWithSample(op: (w: number, i: number) => Promise<unknown>, concurrency: number, durationMs: number, atMs: number[]) {
  const samples: { heap: number; rss: number }[] = [];
  let running = true;
  let ops = 0;
  let errors = 0;
  const worker = async (w: number) => {
    for (let i = 0; running; i++) {
      try {
        await op(w, i);
        ops++;
      } catch {
        errors++;
      }
    }
  };
  const workers = Array.from({ length: concurrency }, (_, w) => worker(w));
  await new Promise((r) => setTimeout(r, 500));
  ops = 0;
  const start = performance.now();
  const timers = atMs.map((t) => setTimeout(() => samples.push(retained()), t));
  await new Promise((r) => setTimeout(r, durationMs));
  for (const t of timers) clearTimeout(t);
  const elapsed = performance.now() - start;
  const done = ops;
  running = false;
  await Promise.all(workers);
  return { r: { ops: done, opsPerSec: Math.round((done / elapsed) * 1000), errors }, samples };
}

function slope(points: readonly [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const num = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const den = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

export async function run(): Promise<void> {
  const measurements: Measurement[] = [];
  let growth = '';
  await withBenchCluster({ masters: 3, replicas: 1 }, async (cluster) => {
    const roots = cluster.getRootNodes();
    const seed = await openClient('slotwise', roots);
    for (let i = 0; i < KEYS; i += 500) await Promise.all(Array.from({ length: 500 }, (_, j) => seed.set(`bench:${i + j}`, VALUE)));
    await seed.close();

    // Growth: one slotwise client under 256 in flight for MINUTES, a retained-heap sample every 10 s.
    const c = await openClient('slotwise', roots);
    const op = (w: number, i: number) => {
      const k = `bench:${(w * 7919 + i) % KEYS}`;
      return i % 2 === 0 ? c.set(k, VALUE) : c.get(k);
    };
    const durationMs = MINUTES * 60_000;
    const at = Array.from({ length: Math.floor(durationMs / 10_000) }, (_, i) => (i + 1) * 10_000);
    const { r, samples } = await loadWithSample(op, 256, durationMs, at);
    await c.close();
    const first = samples.filter((_, i) => (i + 1) * 10 <= 60);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const h0 = mean(first.map((s) => s.heap));
    const r0 = mean(first.map((s) => s.rss));
    const rest = samples.map((s, i) => [((i + 1) * 10) / 60, s] as const).filter(([m]) => m > 1);
    const heapDev = Math.max(...samples.map((s) => Math.abs(s.heap - h0) / h0));
    const rssDev = Math.max(...samples.map((s) => Math.abs(s.rss - r0) / r0));
    const heapSlope = slope(rest.map(([m, s]) => [m, s.heap / MB]));
    const rssSlope = slope(rest.map(([m, s]) => [m, s.rss / MB]));
    const series = samples.map((s) => round(s.heap / MB, 1)).join(', ');
    growth =
      `**Growth (${MINUTES} min, slotwise, 256 in flight, ${r.ops.toLocaleString('en-US')} commands at ${r.opsPerSec} ops/s, ${r.errors} errors):** ` +
      `retained heap first-minute mean ${round(h0 / MB)} MB, largest deviation ${round(heapDev * 100, 1)} %, slope after minute 1 ${round(heapSlope * 1024, 1)} KB/min; ` +
      `RSS first-minute mean ${round(r0 / MB)} MB, largest deviation ${round(rssDev * 100, 1)} %, slope ${round(rssSlope * 1024, 1)} KB/min.\n\n` +
      `Retained heap every 10 s (MB): ${series}.`;
    console.log(growth);

    for (const kind of KINDS) {
      const c = await openClient(kind, roots);
      const op = (w: number, i: number) => {
        const k = `bench:${(w * 7919 + i) % KEYS}`;
        return i % 2 === 0 ? c.set(k, VALUE) : c.get(k);
      };
      await closedLoop(64, 1000, op, 0);
      const idle = retained();
      for (const level of LEVELS) {
        const { r, samples } = await loadWithSample(op, level, STEP_MS, [STEP_MS / 2, (3 * STEP_MS) / 4]);
        const heap = Math.max(...samples.map((s) => s.heap)) - idle.heap;
        const rss = Math.max(...samples.map((s) => s.rss)) - idle.rss;
        console.log(`  ${CLIENT_LABELS[kind]} C=${level}: ${r.opsPerSec} ops/s, retained heap +${round(heap / MB)} MB (${round(heap / level)} B per in-flight), RSS +${round(rss / MB)} MB`);
        measurements.push({
          client: CLIENT_LABELS[kind], scenario: `GET/SET C=${level}`, ops: r.ops, opsPerSec: r.opsPerSec, p50Ms: NaN, p99Ms: NaN, errors: r.errors,
          extra: {
            'idle heap MB': round(idle.heap / MB),
            'heap under load − idle, MB': round(heap / MB),
            'heap B per in-flight cmd': Math.round(heap / level),
            'RSS under load − idle, MB': round(rss / MB),
          },
        });
      }
      await c.close();
    }

  });
  writeReport({
    name: 'memory',
    title: 'Client memory: heap and RSS per in-flight command, and growth over a long run',
    command: 'npm run bench -- memory',
    setup:
      `One fresh cluster of 3 masters × 1 replica. Closed loop, 50/50 GET/SET over ${KEYS} keys, 100-byte values. Per client and in-flight count, ` +
      `a ${STEP_MS} ms run; at its middle and three quarters the process forces a full GC (commands still in flight) and reads heapUsed and RSS; ` +
      'the larger sample minus the same client connected and idle (also after a full GC) is the cost of the in-flight commands. ' +
      'RSS includes the shared V8/Node baseline and does not shrink when the heap does, so it is shown for growth, not per command. ' +
      `Before that, slotwise alone ran ${MINUTES} min at 256 in flight with a sample every 10 s (first in the process, so no other client's modules or garbage are in it).`,
    measurements,
    notes: growth,
  });
}
