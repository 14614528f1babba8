/** WorkQueue on the shared cluster: processing, idempotent ids, delayed jobs, partitions, stats, bad input. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import {
  ClusterClient,
  InvalidArgumentError,
  NotReplicatedError,
  QueueClosedError,
  WorkQueue,
  type CommandDiagnostics,
  type WorkQueueOptions,
} from '../../../lib/index.js';
import { sharedCluster } from '../../helpers/cluster.js';
import { waitFor } from '../../helpers/wait.js';

describe('WorkQueue (integration)', function () {
  this.timeout(30_000);
  let client: ClusterClient;
  let producer: ClusterClient;
  const queues: WorkQueue<any>[] = [];

  function queue<T>(options?: WorkQueueOptions<T>, c = client, name = `wq-${randomUUID().slice(0, 8)}`): WorkQueue<T> {
    const q = new WorkQueue<T>(c, name, options);
    queues.push(q);
    return q;
  }

  /** Every key of a queue (SCAN on every master). */
  async function keysOf(q: WorkQueue<any>): Promise<string[]> {
    const found: string[] = [];
    for (const node of client.nodes('master')) {
      let cursor = '0';
      do {
        const [next, keys] = (await node.call('scan', cursor, 'match', `${q.options.prefix}:{${q.name}:*`, 'count', 1000)) as [string, string[]];
        found.push(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
    return found;
  }

  before(async () => {
    const cluster = await sharedCluster();
    client = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    producer = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await Promise.all([client.connect(), producer.connect()]);
  });
  afterEach(async () => {
    await Promise.all(queues.splice(0).map((q) => q.close()));
  });
  after(async () => {
    await client?.quit();
    await producer?.quit();
  });

  it('processes every job once over 4 partitions on different masters', async () => {
    const q = queue<{ n: number }>({ partitions: 4 });
    const owners = new Set(q.partitions.map((p) => client.topology!.shardOf(p.slot)!.master.address));
    assert.equal(owners.size, 3, 'partitions spread over the 3 masters');
    const seen: number[] = [];
    const completed: string[] = [];
    q.on('completed', (job) => void completed.push(job.id));
    await q.process((job) => void seen.push(job.data.n), { concurrency: 8 });
    const results = await queue<{ n: number }>({ partitions: 4 }, producer, q.name).addBulk(Array.from({ length: 300 }, (_, n) => ({ payload: { n } })));
    assert.ok(results.every((r) => r.added));
    assert.equal(new Set(results.map((r) => r.partition)).size, 4);
    await waitFor(() => completed.length === 300, { what: '300 completions' });
    assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 300 }, (_, n) => n));
    assert.deepEqual(await q.stats(), { waiting: 0, delayed: 0, inFlight: 0, dead: 0, partitions: q.partitions.map(() => ({ waiting: 0, delayed: 0, inFlight: 0, dead: 0 })) });
    assert.deepEqual((await keysOf(q)).sort(), q.partitions.flatMap((p) => [p.ready, p.events]).sort(), 'completed jobs leave nothing behind but the (empty) ready streams and the bounded events streams');
  });

  it('keeps order within a partition key', async () => {
    const q = queue<{ key: string; n: number }>({ partitions: 4 });
    const got = new Map<string, number[]>();
    await q.process((job) => void got.set(job.data.key, [...(got.get(job.data.key) ?? []), job.data.n]), { concurrency: 1 });
    for (let n = 0; n < 20; n++) for (const key of ['a', 'b', 'c']) await q.add({ key, n }, { partitionKey: `customer:${key}` });
    await waitFor(() => [...got.values()].reduce((s, l) => s + l.length, 0) === 60, { what: 'all jobs' });
    for (const key of ['a', 'b', 'c']) assert.deepEqual(got.get(key), Array.from({ length: 20 }, (_, n) => n), key);
  });

  it('enqueues the same jobId once: sequentially, concurrently, and after completion', async () => {
    const q = queue<string>();
    const first = await q.add('a', { jobId: 'order-1' });
    const again = await q.add('b', { jobId: 'order-1' });
    const racing = await Promise.all([q.add('c', { jobId: 'order-2' }), q.add('d', { jobId: 'order-2' }), q.add('e', { jobId: 'order-2' })]);
    assert.equal(first.added, true);
    assert.equal(again.added, false);
    assert.equal(racing.filter((r) => r.added).length, 1);
    assert.equal((await q.stats()).waiting, 2);
    const runs: string[] = [];
    await q.process((job) => void runs.push(`${job.id}=${job.data}`));
    await waitFor(async () => runs.length === 2 && (await q.stats()).waiting === 0, { what: 'both jobs' });
    assert.equal(runs[0], 'order-1=a', 'the first payload wins');
    assert.equal((await q.add('f', { jobId: 'order-1' })).added, false, 'a completed id is remembered for completedRetentionMs');
  });

  it('fires a delayed job on time with only workers running, without polling', async () => {
    const name = `wq-delay-${randomUUID().slice(0, 8)}`;
    const worker = queue<number>({}, client, name);
    const fired: number[] = [];
    await worker.process(() => void fired.push(Date.now()));
    const evalsBefore = new Set<number>();
    const onCommand = (m: unknown) => {
      const c = m as CommandDiagnostics;
      if (c.command === 'evalsha' || c.command === 'xreadgroup') evalsBefore.add(Date.now());
    };
    // A separate producer client: the worker learns about the job over sharded pub/sub.
    const lateness: number[] = [];
    for (const delayMs of [300, 600]) {
      const t0 = Date.now();
      await queue<number>({}, producer, name).add(delayMs, { delayMs });
      const due = t0 + delayMs;
      await waitFor(() => fired.length === lateness.length + 1, { what: `the job delayed ${delayMs} ms` });
      lateness.push(fired.at(-1)! - due);
    }
    diagnostics.subscribe('slotwise:command', onCommand);
    const idleFrom = Date.now();
    await new Promise((r) => setTimeout(r, 1000)); // an idle second: count what the worker sends
    diagnostics.unsubscribe('slotwise:command', onCommand);
    console.log(`      delayed jobs started ${lateness.join(' ms, ')} ms after their due time; ${evalsBefore.size} script/read calls in an idle second`);
    assert.ok(lateness.every((l) => l >= -10), `never early: ${lateness}`);
    assert.ok(lateness.every((l) => l < 1000), `on time (generous bound for a loaded CI box): ${lateness}`);
    assert.ok(evalsBefore.size <= 3, `no busy polling while idle since ${idleFrom}: ${evalsBefore.size} calls`);
  });

  it('replicas: 1 waits for the replica; more replicas than exist fails with NotReplicatedError', async () => {
    const q = queue<string>({ replicas: 1 });
    assert.equal((await q.add('durable')).added, true);
    const tooMany = queue<string>({ replicas: 2, replicaTimeoutMs: 50, addTimeoutMs: 300 });
    await assert.rejects(tooMany.add('x', { jobId: 'r2' }), (e: unknown) => e instanceof NotReplicatedError && e.wanted === 2 && e.acknowledged === 1 && /1 of 2 replicas/.test(e.message));
  });

  it('rejects bad input with a clear error and writes nothing', async () => {
    const q = queue<unknown>();
    const cyclic: Record<string, unknown> = {};
    cyclic.me = cyclic;
    await assert.rejects(q.add({ big: 1n }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'payload' && /BigInt/.test(e.message));
    await assert.rejects(q.add(cyclic), /circular/);
    await assert.rejects(q.add(undefined), /payload.*undefined/);
    await assert.rejects(q.add('x', { delayMs: -5 }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'delayMs');
    await assert.rejects(q.add('x', { delay: 5 } as never), (e: unknown) => e instanceof InvalidArgumentError && /unknown add option; known: jobId, delayMs, partitionKey/.test(e.message));
    await assert.rejects(q.addBulk([{ payload: 'ok' }, { payload: () => 1 }]), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'jobs[1].payload');
    await assert.rejects(q.addBulk([{ payload: 'ok' }, { payload: 'x', options: { delayMs: -1 } }]), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'jobs[1].delayMs');
    await assert.rejects(q.process('nope' as never), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'handler');
    await assert.rejects(q.process(() => undefined, { concurrency: -1 }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'concurrency');
    assert.throws(() => new WorkQueue(client, 'has {braces}'), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'queue name');
    assert.throws(() => new WorkQueue(client, 'x', { visibilityTimeout: 5 } as never), /unknown queue option/);
    assert.deepEqual(await keysOf(q), [], 'nothing was written');
    await q.close();
    await assert.rejects(q.add('late'), QueueClosedError);
  });
});
