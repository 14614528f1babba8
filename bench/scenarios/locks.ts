/**
 * Locks: slotwise Mutex vs node-redlock (5.0.0-beta.2 on an ioredis 6
 * Cluster client, one "instance": the cluster) on the same fresh cluster.
 *   - uncontended acquire+release latency (1 worker, one lock)
 *   - uncontended throughput, 64 workers on 64 different locks
 *   - contended throughput, 16 workers on ONE lock (grants/s)
 * node-redlock polls while contended (retryDelay 10 ms ± 10 ms jitter,
 * unlimited retries — its fastest sensible setting); slotwise waiters are
 * woken by releases and otherwise poll every ≤ 250 ms.
 */
import { Cluster } from 'ioredis';
import Redlock from 'redlock';
import { ClusterClient, Mutex } from '../../lib/index.js';
import { closedLoop, withBenchCluster, writeReport, type Measurement } from '../harness.js';

const DURATION_MS = 5000;
const LEASE_MS = 10_000;

export async function run(): Promise<void> {
  const measurements: Measurement[] = [];
  await withBenchCluster({ masters: 3, replicas: 1 }, async (cluster) => {
    const slotwise = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await slotwise.connect();
    const ioredis = new Cluster(cluster.getRootNodes(), { enableAutoPipelining: true });
    await new Promise<void>((resolve, reject) => {
      ioredis.once('ready', () => resolve());
      ioredis.once('error', reject);
    });
    const redlock = new Redlock([ioredis], { retryCount: -1, retryDelay: 10, retryJitter: 10, driftFactor: 0.01 });
    redlock.on('error', () => undefined); // contention is reported per attempt; not an error here

    // One Mutex object per lock name, created once, as a service would.
    const mutexes = new Map<string, Mutex>();
    const mutex = (name: string) => {
      let m = mutexes.get(name);
      if (!m) mutexes.set(name, (m = new Mutex(slotwise, name, { leaseMs: LEASE_MS, waitMs: 60_000 })));
      return m;
    };
    const series: { scenario: string; concurrency: number; slotwise: (w: number) => Promise<unknown>; redlock: (w: number) => Promise<unknown> }[] = [
      {
        scenario: 'uncontended, 1 worker',
        concurrency: 1,
        slotwise: async () => (await mutex('bench-u1').acquire()).release(),
        redlock: async () => (await redlock.acquire(['redlock:bench-u1'], LEASE_MS)).release(),
      },
      {
        scenario: 'uncontended, 64 workers × own lock',
        concurrency: 64,
        slotwise: async (w) => (await mutex(`bench-u64-${w}`).acquire()).release(),
        redlock: async (w) => (await redlock.acquire([`redlock:bench-u64-${w}`], LEASE_MS)).release(),
      },
      {
        scenario: 'contended, 16 workers × 1 lock',
        concurrency: 16,
        slotwise: async () => (await mutex('bench-c16').acquire()).release(),
        redlock: async () => (await redlock.acquire(['redlock:bench-c16'], LEASE_MS)).release(),
      },
    ];
    for (const s of series) {
      for (const [client, op] of [['slotwise Mutex', s.slotwise], ['node-redlock 5 (ioredis Cluster)', s.redlock]] as const) {
        const r = await closedLoop(s.concurrency, DURATION_MS, (w) => op(w));
        console.log(`${s.scenario} · ${client}: ${r.opsPerSec} grants/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, errors ${r.errors}${r.firstError ? ` (${r.firstError})` : ''}`);
        measurements.push({ client, scenario: s.scenario, ops: r.ops, opsPerSec: r.opsPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms, errors: r.errors });
      }
    }
    await slotwise.quit();
    await ioredis.quit();
  });
  writeReport({
    name: 'locks',
    title: 'Locks: acquire + release',
    command: 'npm run bench -- locks',
    setup: `Fresh 3 masters × 1 replica cluster; ${DURATION_MS / 1000} s closed loop per series after a warm-up; one operation = acquire + release, lease ${LEASE_MS / 1000} s. ` +
      'node-redlock 5.0.0-beta.2 drives an ioredis 6 Cluster client (auto-pipelining on) as its single instance, retryDelay 10 ms, retryJitter 10 ms, unlimited retries.',
    measurements,
    notes: 'Contended: slotwise waiters park until a release wakes them (in-process wake-up here; sharded pub/sub across processes) ' +
      'and otherwise retry after the holder\'s remaining lease or 250 ms; node-redlock retries every 10–20 ms. ' +
      'Numbers from a shared 2-core machine are indicative only; the lead re-runs benchmarks on an idle machine.',
  });
}
