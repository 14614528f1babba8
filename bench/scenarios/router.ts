/**
 * Router benchmark: slotwise (ClusterClient, and its ioredis-compatible Cluster
 * from slotwise/ioredis) vs ioredis Cluster (plain and auto-pipelined) vs
 * node-redis cluster, in ONE run on ONE fresh 3×1 cluster:
 * - mixed GET/SET (50/50, 100-byte values) across slots at 1, 64 and 256 in
 *   flight, each client measured twice, interleaved, reported as the mean of the two;
 * - errors surfaced during a live reshard of 1500 slots under 64 in flight;
 * - errors and recovery time after kill -9 of a master (node timeout 2 s).
 */
import { performance } from 'node:perf_hooks';
import { slotOf } from '../../lib/index.js';
import type { StartedRedisCluster } from '../../testcontainers/index.js';
import { CLIENT_LABELS, openClient, type BenchClient, type ClientKind } from '../clients.js';
import { closedLoop, meanOfRuns, round, withBenchCluster, withRatios, writeReport, type LoopResult, type Measurement } from '../harness.js';

const KINDS: ClientKind[] = ['slotwise', 'slotwise-ioredis', 'ioredis', 'ioredis-autopipeline', 'node-redis'];
/** Steady-state rows also measure the ceiling any Node client has here (bench/bare-socket.ts); fault rows do not (it has no retries). */
const STEADY_KINDS: ClientKind[] = [...KINDS, 'bare-socket'];
const KEYS = 10_000;
const VALUE = 'x'.repeat(100);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const key = (i: number) => `bench:${i % KEYS}`;

async function steady(cluster: StartedRedisCluster, out: Measurement[]): Promise<void> {
  for (const concurrency of [1, 64, 256]) {
    const runs = new Map<ClientKind, LoopResult[]>();
    for (let round2 = 0; round2 < 2; round2++) {
      // Alternate the order so no client always runs on a warmer (or more tired) box.
      const order = round2 === 0 ? STEADY_KINDS : [...STEADY_KINDS].reverse();
      for (const kind of order) {
        const c = await openClient(kind, cluster.getRootNodes());
        const r = await closedLoop(concurrency, DURATION_MS, (w, i) => {
          const k = key(w * 7919 + i);
          return i % 2 === 0 ? c.set(k, VALUE) : c.get(k);
        });
        await c.close();
        runs.set(kind, [...(runs.get(kind) ?? []), r]);
        console.log(`  GET/SET C=${concurrency} ${CLIENT_LABELS[kind]}: ${r.opsPerSec} ops/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, errors ${r.errors}`);
      }
    }
    const rows = STEADY_KINDS.map((kind) => meanOfRuns(CLIENT_LABELS[kind], `GET/SET C=${concurrency}`, runs.get(kind) as [LoopResult, LoopResult]));
    out.push(...withRatios(rows, CLIENT_LABELS['bare-socket'], CLIENT_LABELS['ioredis-autopipeline']));
  }
}

/** Closed-loop load recording when each op on a watched set of slots last failed/succeeded. */
function faultLoad(c: BenchClient, concurrency: number, watched: Set<number>) {
  let running = true;
  let ops = 0;
  let errors = 0;
  const firstErrors: string[] = [];
  const watchedOk: number[] = [];
  const lat: number[] = [];
  const worker = async (w: number) => {
    let i = 0;
    while (running) {
      const k = key(w * 7919 + i++);
      const t0 = performance.now();
      try {
        if (i % 2 === 0) await c.set(k, VALUE);
        else await c.get(k);
        ops++;
        lat.push(performance.now() - t0);
        if (watched.has(slotOf(k))) watchedOk.push(Date.now());
      } catch (err) {
        errors++;
        if (firstErrors.length < 3) firstErrors.push((err as Error).message.slice(0, 120));
        await new Promise((r) => setTimeout(r, 2));
      }
    }
  };
  const workers = Array.from({ length: concurrency }, (_, w) => worker(w));
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
      lat.sort((x, y) => x - y);
      return { ops, errors, firstErrors, watchedOk, p99: lat.length ? round(lat[Math.floor(lat.length * 0.99)]!) : NaN };
    },
  };
}

function slotsOf(ranges: readonly (readonly [number, number])[]): Set<number> {
  const s = new Set<number>();
  for (const [a, b] of ranges) for (let x = a; x <= b; x++) s.add(x);
  return s;
}

async function reshards(cluster: StartedRedisCluster, out: Measurement[]): Promise<void> {
  const [a, b] = cluster.getRootNodes();
  let from = a!.port;
  let to = b!.port;
  for (const kind of KINDS) {
    const c = await openClient(kind, cluster.getRootNodes());
    const nodes = await cluster.getNodes();
    const moving = slotsOf(nodes.find((n) => n.port === from)!.slots);
    const load = faultLoad(c, 64, moving);
    await new Promise((r) => setTimeout(r, 1000));
    const t0 = Date.now();
    const rep = await cluster.reshard({ from, to, slots: 1500 });
    await new Promise((r) => setTimeout(r, 1000));
    const res = await load.stop();
    await c.close();
    console.log(`  reshard 1500 slots ${CLIENT_LABELS[kind]}: ${res.errors} errors (${res.firstErrors.join(' | ')})`);
    out.push({
      client: CLIENT_LABELS[kind], scenario: 'live reshard 1500 slots, C=64', ops: res.ops,
      opsPerSec: Math.round(res.ops / ((Date.now() - t0 + 1000) / 1000)), p50Ms: NaN, p99Ms: res.p99, errors: res.errors,
      extra: { 'reshard ms': rep.durationMs, 'first error': res.firstErrors[0] ?? '' },
    });
    [from, to] = [to, from];
  }
}

async function kills(cluster: StartedRedisCluster, out: Measurement[]): Promise<void> {
  for (const kind of KINDS) {
    const c = await openClient(kind, cluster.getRootNodes());
    const victim = cluster.getRootNodes()[2]!;
    const nodes = await cluster.getNodes();
    const victimSlots = slotsOf(nodes.find((n) => n.port === victim.port)!.slots);
    const load = faultLoad(c, 64, victimSlots);
    await new Promise((r) => setTimeout(r, 1000));
    const report = await cluster.killNode(victim.port);
    const promotedAt = report.promoted?.at ?? report.killedAt;
    // Keep loading until well after convergence.
    await new Promise((r) => setTimeout(r, 3000));
    const res = await load.stop();
    await c.close();
    const firstOk = res.watchedOk.find((t) => t > promotedAt);
    const recovery = firstOk === undefined ? NaN : firstOk - promotedAt;
    console.log(`  kill -9 ${CLIENT_LABELS[kind]}: ${res.errors} errors, failed shard served again ${recovery} ms after promotion (${res.firstErrors.join(' | ')})`);
    out.push({
      client: CLIENT_LABELS[kind], scenario: 'kill -9 of a master, C=64', ops: res.ops, opsPerSec: NaN, p50Ms: NaN, p99Ms: res.p99,
      errors: res.errors,
      extra: { 'kill→promotion ms': promotedAt - report.killedAt, 'promotion→first success ms': recovery, 'first error': res.firstErrors[0] ?? '' },
    });
    // Bring the node back (as a replica) so the next client faces the same cluster shape.
    await cluster.restartNode(victim.port);
  }
}

export async function run(): Promise<void> {
  const measurements: Measurement[] = [];
  await withBenchCluster({ masters: 3, replicas: 1, nodeTimeoutMs: 2000 }, async (cluster) => {
    const seed = await openClient('slotwise', cluster.getRootNodes());
    for (let i = 0; i < KEYS; i += 500) await Promise.all(Array.from({ length: 500 }, (_, j) => seed.set(key(i + j), VALUE)));
    await seed.close();
    await steady(cluster, measurements);
    await reshards(cluster, measurements);
    await kills(cluster, measurements);
  });
  writeReport({
    name: 'router',
    title: 'Router: slotwise vs ioredis Cluster vs node-redis',
    command: 'npm run bench -- router',
    setup:
      `One fresh cluster of 3 masters × 1 replica (redis-server 7.0.15, node timeout 2 s) on this machine, shared by every client in the same run. ` +
      `Closed loop, 50/50 GET/SET over ${KEYS} keys, 100-byte values; ${DURATION_MS} ms measured per run after a warm-up; ` +
      'steady-state rows are the mean of two interleaved runs (both listed under "runs"). ' +
      'Fault rows: errors surfaced to the caller while the fault ran under 64 in flight; each client faces its own reshard (1500 slots, alternating direction) and its own kill -9 (the killed node is restarted as a replica before the next client).',
    measurements,
    notes: '"CPU µs/op" is the client process\'s CPU time (user + system, `process.cpuUsage`) over the measured window divided by the operations completed in it. ' +
      'The last steady-state row is not a client but the ceiling: one `net.Socket` per master, hand-written RESP, a static slot map, replies counted not decoded (bench/bare-socket.ts); "of ceiling" is each row\'s ops/s as a share of it, "vs ioredis+AP" as a multiple of ioredis Cluster with autopipelining. ' +
      'Clients use their defaults except: ioredis with `enableAutoPipelining` in the second variant; slotwise with `commandTimeoutMs: 10000`; slotwise/ioredis with `redisOptions.commandTimeout: 10000` (the same deadline).',
  });
}
