/**
 * WorkQueue: retention of finished jobs (removeOnComplete, removeOnDead,
 * clean()), priorities with delayed jobs and retries, and validation of the
 * new options — on the shared cluster, one worker in this process.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ClusterClient, InvalidArgumentError, WorkQueue, type WorkQueueOptions } from '../../../lib/index.js';
import { sharedCluster } from '../../helpers/cluster.js';
import { waitFor } from '../../helpers/wait.js';

describe('WorkQueue: retention, clean(), priorities with delays and retries', function () {
  this.timeout(60_000);
  let client: ClusterClient;
  const queues: WorkQueue<any>[] = [];
  const open = <T>(options: WorkQueueOptions<T> = {}) => {
    const q = new WorkQueue<T>(client, `wqr-${randomUUID().slice(0, 8)}`, { visibilityTimeoutMs: 5000, ...options });
    queues.push(q);
    return q;
  };
  /** How many of these job ids still have a hash. */
  const hashes = async (q: WorkQueue<any>, ids: readonly string[]) => {
    const pk = q.partitions[0]!;
    let n = 0;
    for (const id of ids) n += await client.exists(pk.jobPrefix + id);
    return n;
  };

  before(async () => {
    const cluster = await sharedCluster();
    client = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await client.connect();
  });
  after(async () => {
    await Promise.all(queues.map((q) => q.close({ timeoutMs: 1000 })));
    await client?.quit();
  });

  it('removeOnComplete: { count: 5 } keeps the 5 newest completed markers; older ids can be added again', async () => {
    const q = open<number>({ removeOnComplete: { count: 5 } });
    const ids = Array.from({ length: 20 }, (_, i) => `c-${i}`);
    const done: string[] = [];
    await q.process((job) => void done.push(job.id));
    for (const id of ids) await q.add(1, { jobId: id });
    await waitFor(() => done.length === 20, { what: '20 jobs completed' });
    await waitFor(async () => (await q.stats()).inFlight === 0, { what: 'acknowledged' });
    assert.equal(await client.zcard(q.partitions[0]!.completed), 5);
    assert.equal(await hashes(q, ids), 5, 'only 5 job hashes left');
    const kept = done.slice(-5);
    assert.equal(await hashes(q, kept), 5, 'the 5 most recent are the ones kept');
    assert.equal((await q.add(2, { jobId: kept[0]! })).added, false, 'a kept id is still deduplicated');
    assert.equal((await q.add(2, { jobId: done[0]! })).added, true, 'an evicted id is a new job');
  });

  it('removeOnComplete: true deletes a job with an explicit id when it completes', async () => {
    const q = open<number>({ removeOnComplete: true });
    const done: string[] = [];
    await q.process((job) => void done.push(job.id));
    await q.add(1, { jobId: 'once' });
    await waitFor(() => done.length === 1, { what: 'completed' });
    await waitFor(async () => (await hashes(q, ['once'])) === 0, { what: 'hash gone' });
    assert.equal((await q.add(1, { jobId: 'once' })).added, true);
  });

  it('removeOnDead: { count: 3 } trims dead letters (and their job hashes) to the 3 newest; true keeps none', async () => {
    const q = open<number>({ maxDeliveries: 1, removeOnDead: { count: 3 } });
    const ids = Array.from({ length: 8 }, (_, i) => `d-${i}`);
    let dead = 0;
    q.on('dead', () => void dead++);
    await q.process(() => {
      throw new Error('poison');
    });
    for (const id of ids) await q.add(1, { jobId: id });
    await waitFor(() => dead === 8, { what: '8 dead' });
    await waitFor(async () => (await client.xlen(q.partitions[0]!.dead)) === 3, { what: 'dead letters trimmed to 3' });
    assert.equal(await hashes(q, ids), 3);
    assert.equal((await q.deadLetters()).length, 3);

    const drop = open<number>({ maxDeliveries: 1, removeOnDead: true });
    let gone = 0;
    drop.on('dead', () => void gone++);
    await drop.process(() => {
      throw new Error('poison');
    });
    await drop.add(1, { jobId: 'x' });
    await waitFor(() => gone === 1, { what: 'dead event' });
    assert.equal(await client.xlen(drop.partitions[0]!.dead), 0, 'no dead letter kept');
    assert.equal(await hashes(drop, ['x']), 0, 'job hash deleted');
  });

  it('clean(): removes dead letters and completed markers older than a grace period', async () => {
    const q = open<number>({ maxDeliveries: 1 });
    const done: string[] = [];
    await q.process((job) => {
      if (job.data < 0) throw new Error('poison');
      done.push(job.id);
    });
    await q.addBulk([1, 2, 3].map((n) => ({ payload: n, options: { jobId: `ok-${n}` } })));
    await q.addBulk([-1, -2].map((n) => ({ payload: n, options: { jobId: `bad${n}` } })));
    await waitFor(async () => done.length === 3 && (await q.stats()).dead === 2, { what: '3 completed, 2 dead' });
    assert.equal(await q.clean('dead', { olderThanMs: 3_600_000 }), 0, 'nothing an hour old');
    assert.equal(await q.clean('dead'), 2);
    assert.equal((await q.stats()).dead, 0);
    assert.equal(await hashes(q, ['bad-1', 'bad-2']), 0);
    assert.equal(await q.clean('completed', { limit: 2 }), 2, 'limit honoured');
    assert.equal(await q.clean('completed'), 1);
    assert.equal(await hashes(q, ['ok-1', 'ok-2', 'ok-3']), 0);
    await assert.rejects(q.clean('waiting' as never), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'state');
    await assert.rejects(q.clean('dead', { olderThanMs: -1 }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'olderThanMs');
  });

  it('priorities: a delayed high job, once due, starts before lows queued earlier; a retry keeps its level', async () => {
    const q = open<string>({ priorities: 2, backoffBaseMs: 50, backoffMaxMs: 50 });
    const order: string[] = [];
    q.pause();
    await q.add('high', { priority: 1, delayMs: 100 });
    await q.addBulk(['low-1', 'low-2', 'low-3'].map((payload) => ({ payload })));
    let failedOnce = false;
    await q.process((job) => {
      order.push(job.data);
      if (job.data === 'high' && !failedOnce) {
        failedOnce = true;
        q.pause(); // take nothing else until the retry is back in the high stream
        throw new Error('once');
      }
    });
    const high = q.partitions[0]!.levels[1]!;
    await waitFor(async () => (await q.stats()).delayed === 0 && (await client.xlen(high)) === 1, { what: 'the delayed job promoted into the high stream' });
    q.resume();
    await waitFor(() => failedOnce, { what: 'first attempt failed' });
    await waitFor(async () => (await q.stats()).delayed === 0 && (await client.xlen(high)) === 1, { what: 'the retry back in the high stream' });
    q.resume();
    await waitFor(() => order.length === 5, { what: 'all ran' });
    assert.deepEqual(order, ['high', 'high', 'low-1', 'low-2', 'low-3']);
  });

  it('rejects bad options with InvalidArgumentError naming them, and writes nothing', async () => {
    const bad: [() => unknown, string][] = [
      [() => open({ priorities: 0 }), 'priorities'],
      [() => open({ limiter: { max: 10, durationMs: 0 } }), 'limiter.durationMs'],
      [() => open({ globalConcurrency: 1.5 }), 'globalConcurrency'],
      [() => open({ removeOnComplete: { count: 'all' as never } }), 'removeOnComplete.count'],
    ];
    for (const [fn, argument] of bad) assert.throws(fn, (e: unknown) => e instanceof InvalidArgumentError && e.argument === argument, argument);
    const q = open<number>({ priorities: 3 });
    await assert.rejects(q.add(1, { priority: 3 }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'priority' && /0 to 2/.test(e.message));
    await assert.rejects(q.addBulk([{ payload: 1 }, { payload: 2, options: { priority: -1 } }]), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'jobs[1].priority');
    const plain = open<number>();
    await assert.rejects(plain.add(1, { priority: 1 }), (e: unknown) => e instanceof InvalidArgumentError && /one priority level/.test(e.message));
    for (const pk of [...q.partitions, ...plain.partitions]) for (const s of pk.levels) assert.equal(await client.exists(s), 0, 'nothing written');
  });
});
