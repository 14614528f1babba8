/**
 * The queue features together, on the shared cluster: priority levels with
 * queue events (every level's scripts write the partition's one events
 * stream), retention with events (a job deleted as it completes or dies still
 * has its event), takeovers of stalled deliveries in a level stream (stalled
 * and dead events, removeOnDead), and repeatable jobs at a priority level.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ClusterClient, InvalidArgumentError, QueueEvents, WorkQueue, type WorkQueueOptions } from '../../../lib/index.js';
import { sharedCluster } from '../../helpers/cluster.js';
import { waitFor } from '../../helpers/wait.js';

describe('WorkQueue: priorities, retention and repeatable jobs with queue events', function () {
  this.timeout(60_000);
  let client: ClusterClient;
  let listenerClient: ClusterClient;
  const closers: (() => Promise<unknown>)[] = [];
  const open = <T>(name: string, options: WorkQueueOptions<T>) => {
    const q = new WorkQueue<T>(client, name, { visibilityTimeoutMs: 5000, ...options });
    closers.push(() => q.close({ timeoutMs: 1000 }));
    return q;
  };
  const listen = async (name: string, partitions: number) => {
    const events = new QueueEvents(listenerClient, name, { partitions, blockMs: 1000 });
    closers.push(() => events.close());
    return events;
  };
  const count = (m: Map<string, number>, id: string) => m.set(id, (m.get(id) ?? 0) + 1);

  before(async () => {
    const cluster = await sharedCluster();
    client = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    listenerClient = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await Promise.all([client.connect(), listenerClient.connect()]);
  });
  after(async () => {
    for (const close of closers.splice(0)) await close();
    await Promise.all([client?.quit(), listenerClient?.quit()]);
  });

  it('priorities + events: a listener sees completed, progress, failed and dead events of jobs of every level, each once', async () => {
    const name = `wqx-${randomUUID().slice(0, 8)}`;
    const q = open<{ level: number; fail?: boolean }>(name, { partitions: 2, priorities: 3, maxDeliveries: 2, backoffBaseMs: 50, backoffMaxMs: 100 });
    const events = await listen(name, 2);
    const completed = new Map<string, number>();
    const progress = new Map<string, number>();
    const failed: string[] = [];
    const dead: string[] = [];
    events.on('completed', (e) => count(completed, e.jobId));
    events.on('progress', (e) => void (e.progress === 50 && count(progress, e.jobId)));
    events.on('failed', (e) => failed.push(`${e.jobId}:${e.retryInMs === undefined ? 'final' : 'retry'}`));
    events.on('dead', (e) => dead.push(e.jobId));
    await events.start();

    // Added before the worker starts, so every level's stream holds jobs at once; some delayed (promoted into their level).
    const jobs = Array.from({ length: 60 }, (_, i) => ({ payload: { level: i % 3 }, options: { jobId: `j-${i}`, priority: i % 3, ...(i % 10 === 0 ? { delayMs: 200 } : {}) } }));
    await q.addBulk(jobs);
    await q.add({ level: 2, fail: true }, { jobId: 'poison', priority: 2 });
    const levelOf = new Map<string, string>();
    await q.process(async (job) => {
      // The level the job sits at, as the add and promote scripts stored it.
      levelOf.set(job.id, (await client.hget(q.partitions[job.partition]!.jobPrefix + job.id, 'pr')) ?? '0');
      if (job.data.fail) throw new Error('refused');
      await job.updateProgress(50);
    }, { concurrency: 4 });

    await waitFor(() => completed.size === 60 && dead.length === 1, { what: `60 completed events (saw ${completed.size}) and 1 dead` });
    const ids = jobs.map((j) => j.options.jobId);
    assert.deepEqual([...completed.keys()].sort(), [...ids].sort());
    assert.ok([...completed.values()].every((n) => n === 1), 'each completed event once');
    assert.equal(progress.size, 60);
    assert.ok([...progress.values()].every((n) => n === 1), 'each progress event once');
    assert.deepEqual(failed, ['poison:retry', 'poison:final']);
    assert.deepEqual(dead, ['poison']);
    for (const [i, id] of ids.entries()) assert.equal(levelOf.get(id), String(i % 3), `${id}'s level`);
    // One events stream per partition, whatever the levels.
    for (const pk of q.partitions) assert.equal(await client.exists(`${pk.events}:1`, `${pk.events}:2`), 0);
    const s = await q.stats();
    assert.deepEqual([s.waiting, s.delayed, s.inFlight, s.dead], [0, 0, 0, 1]);
  });

  it('retention + events: jobs deleted as they complete or die still have their completed and dead events', async () => {
    const name = `wqx-${randomUUID().slice(0, 8)}`;
    const q = open<{ fail: boolean }>(name, { priorities: 2, maxDeliveries: 1, removeOnComplete: true, removeOnDead: true });
    const events = await listen(name, 1);
    const completed = new Map<string, number>();
    const dead: string[] = [];
    events.on('completed', (e) => count(completed, e.jobId));
    events.on('dead', (e) => dead.push(`${e.jobId}: ${e.error}`));
    await events.start();
    await q.process((job) => {
      if (job.data.fail) throw new Error('boom');
    });
    const ids = Array.from({ length: 10 }, (_, i) => `r-${i}`);
    await q.addBulk(ids.map((id, i) => ({ payload: { fail: false }, options: { jobId: id, priority: i % 2 } })));
    await q.add({ fail: true }, { jobId: 'bad', priority: 1 });
    await waitFor(() => completed.size === 10 && dead.length === 1, { what: `10 completed (saw ${completed.size}) and 1 dead event` });
    assert.ok([...completed.values()].every((n) => n === 1));
    assert.deepEqual(dead, ['bad: Error: boom']);
    await waitFor(async () => (await q.stats()).inFlight === 0, { what: 'acknowledged' });
    const pk = q.partitions[0]!;
    assert.equal(await client.exists(...[...ids, 'bad'].map((id) => pk.jobPrefix + id)), 0, 'no job hash kept');
    assert.equal(await client.xlen(pk.dead), 0, 'no dead letter kept');
    assert.equal(await client.zcard(pk.completed), 0, 'no completed marker kept');
    assert.equal((await q.add({ fail: false }, { jobId: 'r-0' })).added, true, 'a deleted id can be added again');

    // With a count bound: the completed set keeps 3 markers, the events stream has every completion.
    const name2 = `wqx-${randomUUID().slice(0, 8)}`;
    const q2 = open<number>(name2, { priorities: 3, removeOnComplete: { count: 3 } });
    const events2 = await listen(name2, 1);
    const completed2 = new Set<string>();
    events2.on('completed', (e) => void completed2.add(e.jobId));
    await events2.start();
    await q2.process(() => undefined);
    await q2.addBulk(Array.from({ length: 9 }, (_, i) => ({ payload: i, options: { jobId: `k-${i}`, priority: i % 3 } })));
    await waitFor(() => completed2.size === 9, { what: `9 completed events (saw ${completed2.size})` });
    await waitFor(async () => (await q2.stats()).inFlight === 0, { what: 'acknowledged' });
    assert.equal(await client.zcard(q2.partitions[0]!.completed), 3);
  });

  it('takeovers in a priority level stream: stalled and dead events, no dead letter with removeOnDead', async () => {
    const name = `wqx-${randomUUID().slice(0, 8)}`;
    const opts = { priorities: 3, visibilityTimeoutMs: 300, removeOnDead: true } as const;
    const q = open<string>(name, { ...opts, maxDeliveries: 2 });
    const events = await listen(name, 1);
    const stalled: string[] = [];
    const dead: string[] = [];
    const completed: string[] = [];
    events.on('stalled', (e) => stalled.push(`${e.jobId}#${e.attempt}`));
    events.on('dead', (e) => dead.push(e.jobId));
    events.on('completed', (e) => completed.push(e.jobId));
    await events.start();
    const pk = q.partitions[0]!;
    // A consumer that takes the level-2 and level-1 jobs and dies with them.
    await q.add('hi', { jobId: 'hi', priority: 2 });
    await q.add('mid', { jobId: 'mid', priority: 1 });
    for (const stream of [pk.levels[2]!, pk.levels[1]!]) {
      await client.call('XGROUP', 'CREATE', stream, q.options.group, '0', 'MKSTREAM').catch(() => undefined);
      const got = (await client.call('XREADGROUP', 'GROUP', q.options.group, 'ghost', 'COUNT', 1, 'STREAMS', stream, '>')) as unknown[];
      assert.equal(got.length, 1);
    }
    await q.process(() => undefined, { reclaimIntervalMs: 100 });
    await waitFor(() => completed.length === 2, { what: `both taken over and completed (stalled ${stalled.join()})` });
    assert.deepEqual(stalled.sort(), ['hi#2', 'mid#2']);
    assert.deepEqual(dead, []);

    // One delivery only: the takeover uses it up — dead, with its event, and nothing kept.
    const name2 = `wqx-${randomUUID().slice(0, 8)}`;
    const q2 = open<string>(name2, { ...opts, maxDeliveries: 1 });
    const events2 = await listen(name2, 1);
    const dead2: string[] = [];
    events2.on('dead', (e) => dead2.push(`${e.jobId}: ${e.error.split(' (')[0]}`));
    await events2.start();
    const pk2 = q2.partitions[0]!;
    await q2.add('x', { jobId: 'gone', priority: 2 });
    await client.call('XGROUP', 'CREATE', pk2.levels[2]!, q2.options.group, '0', 'MKSTREAM').catch(() => undefined);
    await client.call('XREADGROUP', 'GROUP', q2.options.group, 'ghost', 'COUNT', 1, 'STREAMS', pk2.levels[2]!, '>');
    let ran = 0;
    await q2.process(() => void ran++, { reclaimIntervalMs: 100 });
    await waitFor(() => dead2.length === 1, { what: 'the dead event' });
    assert.deepEqual(dead2, ['gone: stalled: its worker stopped']);
    assert.equal(ran, 0);
    assert.equal(await client.exists(pk2.jobPrefix + 'gone'), 0);
    assert.equal(await client.xlen(pk2.dead), 0);
    assert.equal(await client.xlen(pk2.levels[2]!), 0);
  });

  it('a repeatable job at a priority level: its ticks wait in that level\'s stream and complete with events', async () => {
    const name = `wqx-${randomUUID().slice(0, 8)}`;
    const q = open<string>(name, { priorities: 3 });
    await assert.rejects(q.addRepeatable('bad', 'x', { every: 1000 }, { priority: 3 }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'priority');
    assert.deepEqual(await q.repeatables(), [], 'nothing written for rejected input');
    const events = await listen(name, 1);
    const completed = new Set<string>();
    events.on('completed', (e) => void completed.add(e.jobId));
    await events.start();
    const info = await q.addRepeatable('tick', 'payload', { every: 200 }, { priority: 2 });
    assert.equal(info.priority, 2);
    const pk = q.partitions[0]!;
    // Enqueued ahead as delayed jobs carrying their level; no worker yet, so none is promoted.
    const ahead = await client.zrange(pk.delayed, '0', '-1');
    assert.ok(ahead.length >= 2, `ticks enqueued ahead: ${ahead.join()}`);
    for (const id of ahead) assert.equal(await client.hget(pk.jobPrefix + id, 'pr'), '2');
    const streams = new Map<string, string>();
    await q.process(async (job) => {
      const [entry] = (await client.call('XRANGE', pk.levels[2]!, job.entryId, job.entryId)) as unknown[];
      streams.set(job.id, entry === undefined ? 'not in level 2' : 'level 2');
    });
    await waitFor(() => completed.size >= 4, { what: `4 ticks completed (saw ${completed.size})` });
    await q.removeRepeatable('tick');
    for (const id of completed) {
      assert.match(id, /^repeat:tick:\d+$/);
      assert.equal(streams.get(id), 'level 2', id);
    }
  });
});
