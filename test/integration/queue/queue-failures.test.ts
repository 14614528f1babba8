/** WorkQueue failure paths on the shared cluster: retries, dead letters, stalls, heartbeats, close, NOGROUP, pool use. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ClusterClient, JobLostError, NonErrorThrownError, WorkQueue, type Job, type WorkQueueOptions } from '../../../lib/index.js';
import { sharedCluster } from '../../helpers/cluster.js';
import { waitFor } from '../../helpers/wait.js';

describe('WorkQueue failures (integration)', function () {
  this.timeout(30_000);
  let client: ClusterClient;
  let other: ClusterClient;
  const queues: WorkQueue<any>[] = [];

  function queue<T>(options?: WorkQueueOptions<T>, c = client, name = `wqf-${randomUUID().slice(0, 8)}`): WorkQueue<T> {
    const q = new WorkQueue<T>(c, name, options);
    queues.push(q);
    return q;
  }

  before(async () => {
    const cluster = await sharedCluster();
    client = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    other = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await Promise.all([client.connect(), other.connect()]);
  });
  afterEach(async () => {
    await Promise.all(queues.splice(0).map((q) => q.close({ timeoutMs: 0 })));
  });
  after(async () => {
    await client?.quit();
    await other?.quit();
  });

  it('retries with growing, jittered backoff and dead-letters after maxDeliveries with the last error', async () => {
    const q = queue<string>({ maxDeliveries: 3, backoffBaseMs: 100 });
    const attempts: { attempt: number; at: number }[] = [];
    const retries: { delayMs: number; attempt: number }[] = [];
    const dead: Job<string>[] = [];
    q.on('failed', (_job, _err, retry) => void (retry && retries.push(retry)));
    q.on('dead', (job) => void dead.push(job));
    await q.process((job) => {
      attempts.push({ attempt: job.attempt, at: Date.now() });
      throw new Error(`boom #${job.attempt}`);
    });
    await q.add('poison', { jobId: 'poison-1' });
    await waitFor(() => dead.length === 1, { what: 'the job to be dead-lettered' });
    assert.deepEqual(attempts.map((a) => a.attempt), [1, 2, 3]);
    assert.deepEqual(retries.map((r) => r.attempt), [2, 3]);
    assert.ok(retries[0]!.delayMs >= 50 && retries[0]!.delayMs <= 100, `first delay in [50, 100]: ${retries[0]!.delayMs}`);
    assert.ok(retries[1]!.delayMs >= 100 && retries[1]!.delayMs <= 200, `second delay in [100, 200]: ${retries[1]!.delayMs}`);
    for (let i = 0; i < 2; i++) {
      const waited = attempts[i + 1]!.at - attempts[i]!.at;
      assert.ok(waited >= retries[i]!.delayMs - 15, `attempt ${i + 2} came ${waited} ms after the failure, backoff ${retries[i]!.delayMs} ms`);
    }
    const letters = await q.deadLetters();
    assert.equal(letters.length, 1);
    assert.deepEqual({ ...letters[0]!, failedAt: 0 }, { jobId: 'poison-1', data: 'poison', error: 'Error: boom #3', attempts: 3, failedAt: 0, partition: 0 });
    assert.deepEqual((await q.stats()).dead, 1);
    assert.equal((await q.add('again', { jobId: 'poison-1' })).added, false, 'a dead job keeps its id');

    // Jitter: the same failure count gives different delays for different jobs.
    const j = queue<number>({ maxDeliveries: 2, backoffBaseMs: 1000 });
    const delays: number[] = [];
    j.on('failed', (_job, _e, retry) => void (retry && delays.push(retry.delayMs)));
    await j.process(() => {
      throw new Error('once');
    }, { concurrency: 8 });
    await j.addBulk(Array.from({ length: 8 }, (_, i) => ({ payload: i })));
    await waitFor(() => delays.length === 8, { what: 'eight first failures' });
    assert.ok(new Set(delays).size >= 6, `jittered: ${delays.join(', ')}`);
    assert.ok(delays.every((d) => d >= 500 && d <= 1000));
  });

  it('retryDeadLetters gives dead jobs fresh deliveries', async () => {
    const q = queue<string>({ maxDeliveries: 1 });
    let fail = true;
    const done: string[] = [];
    q.on('completed', (job) => void done.push(job.id));
    await q.process((job) => {
      if (fail) throw new Error('not yet');
      return job.data;
    });
    await q.addBulk([{ payload: 'a', options: { jobId: 'a' } }, { payload: 'b', options: { jobId: 'b' } }]);
    await waitFor(async () => (await q.stats()).dead === 2, { what: 'two dead jobs' });
    fail = false;
    assert.equal(await q.retryDeadLetters(), 2);
    await waitFor(() => done.length === 2, { what: 'both completed' });
    assert.deepEqual(done.sort(), ['a', 'b']);
    assert.deepEqual(await q.deadLetters(), []);
  });

  it('a handler throwing a non-Error fails the job with NonErrorThrownError carrying the value', async () => {
    const q = queue<string>({ maxDeliveries: 1 });
    const errors: Error[] = [];
    q.on('failed', (_job, err) => void errors.push(err));
    await q.process(() => {
      throw { code: 42 }; // eslint-disable-line no-throw-literal
    });
    await q.add('x');
    await waitFor(() => errors.length === 1, { what: 'the failure' });
    assert.ok(errors[0] instanceof NonErrorThrownError);
    assert.deepEqual((errors[0] as NonErrorThrownError).thrown, { code: 42 });
    await waitFor(async () => (await q.deadLetters()).length === 1, { what: 'the dead letter' });
    assert.match((await q.deadLetters())[0]!.error, /^NonErrorThrownError: The job handler threw a non-Error value: \{"code":42\}/);
  });

  it('takes over a delivery whose worker died after visibilityTimeoutMs', async () => {
    const q = queue<string>({ visibilityTimeoutMs: 400 });
    await q.add('orphan', { jobId: 'orphan-1' });
    const pk = q.partitions[0]!;
    // A worker that reads the job and dies: the delivery sits in its pending list.
    await client.call('XGROUP', 'CREATE', pk.ready, 'workers', '0', 'MKSTREAM');
    const read = await client.call('XREADGROUP', 'GROUP', 'workers', 'dead-worker', 'COUNT', 1, 'STREAMS', pk.ready, '>');
    assert.ok(Array.isArray(read));
    const stalled: unknown[] = [];
    const runs: number[] = [];
    q.on('stalled', (info) => void stalled.push(info));
    await q.process((job) => void runs.push(job.attempt));
    await waitFor(() => runs.length === 1, { what: 'the takeover' });
    assert.deepEqual(stalled, [{ jobId: 'orphan-1', partition: 0, attempt: 2 }]);
    assert.deepEqual(runs, [2], 'the dead worker used one delivery');
    await waitFor(async () => (await q.stats()).inFlight === 0, { what: 'the ack' });
  });

  it('renews a long job (heartbeat) so another worker never takes it over', async () => {
    const name = `wqf-long-${randomUUID().slice(0, 8)}`;
    const opts = { visibilityTimeoutMs: 300 };
    const a = queue<number>(opts, client, name);
    const b = queue<number>(opts, other, name);
    const runs: string[] = [];
    const stalled: unknown[] = [];
    for (const [label, q] of [['a', a], ['b', b]] as const) {
      q.on('stalled', (s) => void stalled.push(s));
      await q.process(async (job) => {
        runs.push(label);
        await new Promise((r) => setTimeout(r, job.data));
      });
    }
    await a.add(1200);
    await waitFor(async () => runs.length === 1 && (await a.stats()).inFlight === 0, { timeoutMs: 10_000, what: 'the long job' });
    assert.equal(runs.length, 1, 'ran once');
    assert.deepEqual(stalled, []);
  });

  it('close() gives running jobs back at once, without using up a delivery', async () => {
    const name = `wqf-close-${randomUUID().slice(0, 8)}`;
    const a = queue<string>({}, client, name); // visibility timeout 30 s: only the release can explain a quick takeover
    const b = queue<string>({}, other, name);
    let aborted: unknown;
    let started!: () => void;
    const aStarted = new Promise<void>((r) => (started = r));
    await a.process((job) => new Promise<void>((resolve) => {
      started();
      job.signal.addEventListener('abort', () => {
        aborted = job.signal.reason;
        resolve();
      });
    }));
    await a.add('handover');
    await aStarted;
    const attemptsOnB: number[] = [];
    await b.process((job) => void attemptsOnB.push(job.attempt));
    const t0 = Date.now();
    await a.close({ timeoutMs: 50 });
    await waitFor(() => attemptsOnB.length === 1, { timeoutMs: 10_000, what: 'the other worker to take the job' });
    console.log(`      released job taken over ${Date.now() - t0} ms after close()`);
    assert.deepEqual(attemptsOnB, [1], 'the release did not count as a used delivery');
    assert.ok(aborted instanceof JobLostError);
  });

  it('heals itself when the stream and its group disappear (NOGROUP)', async () => {
    const q = queue<string>();
    const done: string[] = [];
    const errors: Error[] = [];
    q.on('error', (e) => void errors.push(e));
    await q.process((job) => void done.push(job.data));
    await q.add('before');
    await waitFor(() => done.length === 1, { what: 'first job' });
    await client.del(q.partitions[0]!.ready);
    await q.add('after');
    await waitFor(() => done.length === 2, { timeoutMs: 15_000, what: 'the job added after the stream was deleted' });
    assert.deepEqual(done, ['before', 'after']);
  });

  it('a worker whose client is quit under it stops instead of retrying forever', async () => {
    const c = new ClusterClient({ rootNodes: (await sharedCluster()).getRootNodes() });
    await c.connect();
    const q = queue<number>({ partitions: 2 }, c);
    await q.process(() => undefined, { blockMs: 10_000 });
    await c.quit();
    // The readers were blocked; quitting abandons them and the worker shuts itself down.
    await q.close({ timeoutMs: 1000 });
    assert.equal(c.status, 'closed');
  });

  it('reads with one pooled connection per partition, whatever the concurrency', async () => {
    const c = new ClusterClient({ rootNodes: (await sharedCluster()).getRootNodes(), pool: { max: 4 } });
    try {
      const q = queue<number>({ partitions: 8 }, c);
      const perNode = new Map<string, number>();
      for (const p of q.partitions) {
        const a = c.topology?.shardOf(p.slot)?.master.address ?? (await c.connect(), c.topology!.shardOf(p.slot)!.master.address);
        perNode.set(a, (perNode.get(a) ?? 0) + 1);
      }
      assert.ok(Math.max(...perNode.values()) <= 4, 'at most pool.max partitions per master in this layout');
      const errors: Error[] = [];
      let done = 0;
      let maxBorrowed = 0;
      q.on('error', (e) => void errors.push(e));
      await q.process(async () => {
        done++;
        for (const n of c.nodes('master')) maxBorrowed = Math.max(maxBorrowed, n.pool.stats.borrowed);
        await new Promise((r) => setTimeout(r, 5));
      }, { concurrency: 50 });
      await q.addBulk(Array.from({ length: 300 }, (_, i) => ({ payload: i })));
      await waitFor(() => done === 300, { what: '300 jobs' });
      assert.deepEqual(errors, []);
      assert.ok(maxBorrowed <= Math.max(...perNode.values()), `borrowed ${maxBorrowed} dedicated connections on one node`);
      await q.close();
    } finally {
      await c.quit();
    }
  });
});
