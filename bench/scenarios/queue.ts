/**
 * Work queue throughput, end to end: jobs added in batches while one
 * in-process worker (concurrency 50) runs them; a job counts when its
 * completion is acknowledged (slotwise `completed` event / BullMQ `completed`).
 * slotwise WorkQueue with 1 and 4 partitions vs BullMQ on the same cluster
 * (one BullMQ queue lives in one slot: its keys share the `{bench}` hash tag).
 * Latency = add → handler start. A last row measures how late delayed jobs
 * start after their due time with only workers running.
 */
import { Queue as BullQueue, Worker as BullWorker } from 'bullmq';
import { Cluster } from 'ioredis';
import { performance } from 'node:perf_hooks';
import { ClusterClient, WorkQueue } from '../../lib/index.js';
import type { StartedRedisCluster } from '../../testcontainers/index.js';
import { round, withBenchCluster, writeReport, type Measurement } from '../harness.js';

const JOBS = Number(process.env.QUEUE_BENCH_JOBS ?? 20_000);
const BATCH = 100;
const CONCURRENCY = 50;
/** Batches in flight at once on the producer side. */
const PRODUCERS = 4;

interface Variant {
  readonly client: string;
  readonly scenario: string;
  /** Starts a worker calling `onStart(addedAt)` per job; returns add + close. */
  setup(cluster: StartedRedisCluster, onStart: (addedAt: number) => void, onDone: () => void): Promise<{
    add(batch: number[]): Promise<unknown>;
    close(): Promise<void>;
  }>;
}

function slotwise(partitions: number): Variant {
  return {
    client: 'slotwise WorkQueue',
    scenario: `${partitions} partition${partitions > 1 ? 's' : ''}`,
    async setup(cluster, onStart, onDone) {
      const client = new ClusterClient({ rootNodes: cluster.getRootNodes() });
      await client.connect();
      const name = `bench-${partitions}`;
      const worker = new WorkQueue<{ t: number }>(client, name, { partitions });
      const producer = new WorkQueue<{ t: number }>(client, name, { partitions });
      worker.on('completed', onDone);
      await worker.process((job) => onStart(job.data.t), { concurrency: CONCURRENCY });
      return {
        add: (batch) => producer.addBulk(batch.map(() => ({ payload: { t: Date.now() } }))),
        async close() {
          await worker.close();
          await client.quit();
        },
      };
    },
  };
}

const bullmq: Variant = {
  client: 'BullMQ (ioredis Cluster)',
  scenario: '1 queue, prefix {bench}',
  async setup(cluster, onStart, onDone) {
    const nodes = cluster.getRootNodes();
    const connection = () => new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: null } });
    const qc = connection();
    const wc = connection();
    const queue = new BullQueue('bench', { connection: qc, prefix: '{bench}' });
    const worker = new BullWorker('bench', async (job) => onStart((job.data as { t: number }).t), {
      connection: wc, prefix: '{bench}', concurrency: CONCURRENCY,
    });
    worker.on('completed', onDone);
    await worker.waitUntilReady();
    return {
      add: (batch) => queue.addBulk(batch.map(() => ({ name: 'job', data: { t: Date.now() }, opts: { removeOnComplete: true, removeOnFail: true } }))),
      async close() {
        await worker.close();
        await queue.close();
        qc.disconnect();
        wc.disconnect();
      },
    };
  },
};

async function measure(cluster: StartedRedisCluster, v: Variant): Promise<Measurement> {
  const latencies: number[] = [];
  let done = 0;
  let errors = 0;
  let finished!: () => void;
  const allDone = new Promise<void>((r) => (finished = r));
  const h = await v.setup(cluster, (t) => void latencies.push(Date.now() - t), () => {
    if (++done === JOBS) finished();
  });
  const start = performance.now();
  let next = 0;
  const producer = async () => {
    while (next < JOBS) {
      const size = Math.min(BATCH, JOBS - next);
      next += size;
      try {
        await h.add(Array.from({ length: size }, (_, i) => i));
      } catch {
        errors += size;
        if ((done += size) >= JOBS) finished();
      }
    }
  };
  await Promise.all(Array.from({ length: PRODUCERS }, producer));
  await allDone;
  const ms = performance.now() - start;
  await h.close();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  const m = { client: v.client, scenario: v.scenario, ops: JOBS, opsPerSec: Math.round((JOBS / ms) * 1000), p50Ms: round(pct(0.5)), p99Ms: round(pct(0.99)), errors };
  console.log(`  ${m.client} · ${m.scenario}: ${m.opsPerSec} jobs/s, add→start p50 ${m.p50Ms} ms, p99 ${m.p99Ms} ms, ${errors} errors`);
  return m;
}

/**
 * Delayed jobs with only workers running: a producer client adds jobs due at
 * spread-out times; lateness = handler start − due time (ms). Workers learn
 * due times over sharded pub/sub and sleep in between, so no polling.
 */
async function delayedLateness(cluster: StartedRedisCluster): Promise<Measurement> {
  const COUNT = 200;
  const workerClient = new ClusterClient({ rootNodes: cluster.getRootNodes() });
  const producerClient = new ClusterClient({ rootNodes: cluster.getRootNodes() });
  await Promise.all([workerClient.connect(), producerClient.connect()]);
  const lateness: number[] = [];
  const worker = new WorkQueue<{ due: number }>(workerClient, 'bench-delayed', { partitions: 4 });
  await worker.process((job) => void lateness.push(Date.now() - job.data.due), { concurrency: CONCURRENCY });
  const producer = new WorkQueue<{ due: number }>(producerClient, 'bench-delayed', { partitions: 4 });
  for (let i = 0; i < COUNT; i++) {
    const delayMs = 200 + Math.floor(Math.random() * 3000);
    await producer.add({ due: Date.now() + delayMs }, { delayMs });
  }
  while (lateness.length < COUNT) await new Promise((r) => setTimeout(r, 50));
  await worker.close();
  await Promise.all([workerClient.quit(), producerClient.quit()]);
  lateness.sort((a, b) => a - b);
  const pct = (p: number) => lateness[Math.min(lateness.length - 1, Math.floor(p * lateness.length))]!;
  const m = {
    client: 'slotwise WorkQueue', scenario: `delayed jobs: lateness after due time (${COUNT} jobs, 0.2–3.2 s delays)`, ops: COUNT, opsPerSec: 0,
    p50Ms: pct(0.5), p99Ms: pct(0.99), errors: 0, extra: { 'max lateness ms': lateness.at(-1)!, 'early (< 0 ms)': lateness.filter((l) => l < 0).length },
  };
  console.log(`  ${m.scenario}: p50 ${m.p50Ms} ms, p99 ${m.p99Ms} ms, max ${lateness.at(-1)} ms`);
  return m;
}

export async function run(): Promise<void> {
  const measurements = await withBenchCluster({ masters: 3, replicas: 1 }, async (cluster) => {
    const out: Measurement[] = [];
    for (const v of [slotwise(1), slotwise(4), bullmq]) out.push(await measure(cluster, v));
    out.push(await delayedLateness(cluster));
    return out;
  });
  writeReport({
    name: 'queue',
    title: 'Work queue: jobs/s end to end (add → run → acknowledged)',
    command: 'npm run bench -- queue',
    setup: `3 masters × 1 replica (fresh cluster), ${JOBS} jobs of ~20 bytes added in batches of ${BATCH} by ${PRODUCERS} concurrent producers ` +
      `while one in-process worker runs them with concurrency ${CONCURRENCY}; a job counts when its completion is acknowledged. ` +
      'Latency columns: add → handler start (for the delayed-jobs row: handler start − due time). Producer, worker and cluster share the machine.',
    measurements,
    notes: [
      'BullMQ keeps a whole queue in one slot (all keys share the `{bench}` hash tag), so it uses one master; ' +
        'slotwise with 4 partitions spreads one queue over the 3 masters (partitions pick hash tags in distinct slot ranges).',
      'Numbers measured while other work shares the 2 cores are indicative only; re-run on an idle machine.',
    ].join('\n\n'),
  });
}
