/**
 * WorkQueue under crashes, with real worker PROCESSES (forked, tsx):
 * 1. 10,000 jobs, 4 workers, two of them SIGKILLed at seeded moments and
 *    restarted: every job runs at least once (or is dead-lettered); zero lost.
 * 2. 10,000 jobs added with `replicas: 1` while a master is killed -9:
 *    every acknowledged add runs; zero lost.
 * Workers report each job over IPC before acknowledging it (see the fixture),
 * so "ran" means the handler's work happened; duplicates are counted.
 */
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClusterClient, WorkQueue } from '../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../testcontainers/index.js';
import { waitFor } from '../helpers/wait.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURE = join(root, 'test', 'fixtures', 'queue-worker.ts');

/** Deterministic PRNG (mulberry32) so kill moments are the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Worker processes and what they report. */
class Workers {
  readonly ran = new Map<string, number>();
  readonly children = new Set<ChildProcess>();
  readonly slots: (ChildProcess | undefined)[] = [];
  readonly stderr: string[] = [];
  onRan: (() => void) | undefined;

  constructor(readonly config: Record<string, unknown>) {}

  get runs(): number {
    let n = 0;
    for (const v of this.ran.values()) n += v;
    return n;
  }

  async start(slot: number): Promise<ChildProcess> {
    const child = fork(FIXTURE, [JSON.stringify(this.config)], { cwd: root, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.children.add(child);
    this.slots[slot] = child;
    child.stderr?.on('data', (d: Buffer) => this.stderr.push(`[worker ${slot}] ${d.toString().slice(0, 500)}`));
    child.on('exit', () => this.children.delete(child));
    await new Promise<void>((resolve, reject) => {
      child.on('message', (m: { t: string; id?: string }) => {
        if (m.t === 'ready') resolve();
        else if (m.t === 'ran') {
          this.ran.set(m.id!, (this.ran.get(m.id!) ?? 0) + 1);
          this.onRan?.();
        }
      });
      child.once('exit', (code) => reject(new Error(`worker ${slot} exited with ${code} before it was ready:\n${this.stderr.join('')}`)));
    });
    return child;
  }

  kill(slot: number): number {
    const child = this.slots[slot]!;
    child.kill('SIGKILL');
    return child.pid!;
  }

  async stopAll(): Promise<void> {
    const exits = [...this.children].map((c) => new Promise<void>((r) => {
      if (c.exitCode !== null || c.signalCode !== null) r();
      else c.once('exit', () => r());
    }));
    for (const c of this.children) c.kill('SIGKILL');
    await Promise.all(exits);
  }
}

describe('chaos: work queue with crashing worker processes and a master kill -9', function () {
  this.timeout(240_000);
  let cluster: StartedRedisCluster;
  let client: ClusterClient;
  const pools: Workers[] = [];

  before(async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).withNodeTimeoutMs(2000).start();
    client = new ClusterClient({ rootNodes: cluster.getRootNodes(), commandTimeoutMs: 10_000 });
    await client.connect();
  });
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.stopAll()));
  });
  after(async () => {
    await client?.quit();
    await cluster?.stop();
  });

  const N = 10_000;
  const ids = Array.from({ length: N }, (_, i) => `job-${i}`);

  async function lostJobs(q: WorkQueue<unknown>, acknowledged: Iterable<string>, workers: Workers): Promise<{ lost: string[]; dead: number }> {
    const dead = new Set((await q.deadLetters({ limit: N })).map((d) => d.jobId));
    return { lost: [...acknowledged].filter((id) => !workers.ran.has(id) && !dead.has(id)), dead: dead.size };
  }

  it('10,000 jobs, 4 worker processes, 2 SIGKILLed at seeded moments and restarted: zero lost', async () => {
    const name = 'chaos-workers';
    const q = new WorkQueue<{ n: number }>(client, name, { partitions: 4 });
    const t0 = Date.now();
    for (let i = 0; i < N; i += 1000) await q.addBulk(ids.slice(i, i + 1000).map((id, k) => ({ payload: { n: i + k }, options: { jobId: id } })));
    const addMs = Date.now() - t0;

    const workers = new Workers({ rootNodes: cluster.getRootNodes(), queue: name, partitions: 4, concurrency: 16, visibilityTimeoutMs: 1000, replicas: 0, workMs: 0 });
    pools.push(workers);
    const random = rng(0x5107);
    const first = Math.floor(random() * 4);
    const plan = [
      { atRuns: Math.floor(N * (0.15 + random() * 0.2)), slot: first },
      { atRuns: Math.floor(N * (0.5 + random() * 0.2)), slot: (first + 1 + Math.floor(random() * 3)) % 4 },
    ];
    const kills: string[] = [];
    let restarting: Promise<unknown> = Promise.resolve();
    workers.onRan = () => {
      const next = plan[0];
      if (next === undefined || workers.ran.size < next.atRuns) return;
      plan.shift();
      const pid = workers.kill(next.slot);
      kills.push(`worker ${next.slot} (pid ${pid}) at ${workers.ran.size} jobs`);
      restarting = Promise.all([restarting, workers.start(next.slot)]);
    };
    const started = Date.now();
    await Promise.all([0, 1, 2, 3].map((s) => workers.start(s)));
    await waitFor(() => workers.ran.size === N, { timeoutMs: 120_000, intervalMs: 100, what: `all ${N} jobs to run (ran ${workers.ran.size})` });
    const ranMs = Date.now() - started;
    await restarting;
    await waitFor(async () => (await q.stats()).inFlight === 0, { timeoutMs: 30_000, what: 'every delivery acknowledged' });

    const { lost, dead } = await lostJobs(q, ids, workers);
    const duplicates = workers.runs - workers.ran.size;
    console.log(`      added ${N} in ${addMs} ms; killed ${kills.join(' and ')}; all ran within ${ranMs} ms ` +
      `(${Math.round(N / (ranMs / 1000))} jobs/s incl. worker start); ${duplicates} duplicate runs, ${dead} dead, ${lost.length} lost`);
    assert.equal(kills.length, 2, 'both kills happened');
    assert.deepEqual(lost, []);
    assert.deepEqual(await q.stats().then((s) => [s.waiting, s.delayed, s.inFlight]), [0, 0, 0]);
  });

  it('a partition\'s slot resharded back and forth while jobs flow: zero lost, no surfaced error', async () => {
    const name = 'chaos-reshard';
    const q = new WorkQueue<{ n: number }>(client, name, { partitions: 2, visibilityTimeoutMs: 2000 });
    const errors: Error[] = [];
    const ran = new Set<string>();
    q.on('error', (e) => void errors.push(e));
    await q.process((job) => void ran.add(job.id), { concurrency: 16 });
    const slot = q.partitions[0]!.slot;
    const from = client.topology!.shardOf(slot)!.master.port;
    const to = client.topology!.shards.map((s) => s.master.port).find((p) => p !== from)!;
    const total = 4000;
    const adding = (async () => {
      for (let i = 0; i < total; i += 50) {
        await q.addBulk(Array.from({ length: 50 }, (_, k) => ({ payload: { n: i + k }, options: { jobId: `r-${i + k}` } })));
      }
    })();
    await waitFor(() => ran.size >= 500, { timeoutMs: 30_000, what: 'jobs flowing' });
    await cluster.reshard({ from, to, slots: [slot] });
    await waitFor(() => ran.size >= 2000, { timeoutMs: 30_000, what: 'jobs flowing on the new owner' });
    await cluster.reshard({ from: to, to: from, slots: [slot] });
    await adding;
    await waitFor(() => ran.size === total, { timeoutMs: 60_000, what: `all ${total} jobs (${ran.size})` });
    await q.close();
    console.log(`      ${total} jobs across two live reshards of partition 0's slot: ${errors.length} background errors`);
    assert.deepEqual(errors.map((e) => e.message), []);
  });

  it('10,000 jobs added with replicas: 1 while a master is killed -9: every acknowledged add runs', async () => {
    const name = 'chaos-failover';
    const producer = new WorkQueue<{ n: number }>(client, name, { partitions: 4, replicas: 1, replicaTimeoutMs: 1000, addTimeoutMs: 30_000 });
    const workers = new Workers({ rootNodes: cluster.getRootNodes(), queue: name, partitions: 4, concurrency: 16, visibilityTimeoutMs: 2000, replicas: 1, workMs: 0 });
    pools.push(workers);
    await Promise.all([0, 1, 2, 3].map((s) => workers.start(s)));

    const victim = client.topology!.shardOf(producer.partitions[0]!.slot)!.master.port;
    const acknowledged = new Set<string>();
    const rejected: string[] = [];
    let failover: Promise<unknown> | undefined;
    const t0 = Date.now();
    for (let i = 0; i < N; i += 100) {
      if (failover === undefined && acknowledged.size >= N * 0.3) {
        // Kill -9 mid-run; once a replica is promoted, bring the dead node back (it rejoins as a replica).
        failover = cluster.killNode(victim).then(async (report) => {
          assert.ok(report.promoted, 'a replica was promoted');
          await cluster.restartNode(victim);
          return report;
        });
      }
      const batch = ids.slice(i, i + 100);
      try {
        await producer.addBulk(batch.map((id, k) => ({ payload: { n: i + k }, options: { jobId: id } })));
        batch.forEach((id) => acknowledged.add(id));
      } catch (err) {
        rejected.push(`${batch[0]}…: ${(err as Error).name}: ${(err as Error).message.slice(0, 120)}`);
      }
    }
    const addMs = Date.now() - t0;
    await failover;
    await waitFor(() => [...acknowledged].every((id) => workers.ran.has(id)), {
      timeoutMs: 120_000, intervalMs: 200, what: `every acknowledged job to run (${workers.ran.size}/${acknowledged.size})`,
    });
    const { lost, dead } = await lostJobs(producer, acknowledged, workers);
    const duplicates = workers.runs - workers.ran.size;
    console.log(`      killed master :${victim} after ${N * 0.3} acknowledged adds; ${acknowledged.size} adds acknowledged, ` +
      `${rejected.length * 100} rejected, in ${addMs} ms; ${duplicates} duplicate runs, ${dead} dead, ${lost.length} acknowledged adds lost`);
    if (rejected.length > 0) console.log(`      rejected batches: ${rejected.slice(0, 3).join(' | ')}`);
    assert.deepEqual(lost, []);
    assert.ok(acknowledged.size >= N * 0.9, `most adds were acknowledged (${acknowledged.size})`);
  });
});
