/**
 * QueueEvents: job outcomes from worker PROCESSES (forked, tsx) observed by a
 * listener on another client; the events stream stays bounded.
 */
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClusterClient, InvalidArgumentError, QueueEvents, WorkQueue } from '../../../lib/index.js';
import { sharedCluster } from '../../helpers/cluster.js';
import { waitFor } from '../../helpers/wait.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const FIXTURE = join(root, 'test', 'fixtures', 'events-worker.ts');

describe('WorkQueue: queue events from any process', function () {
  this.timeout(90_000);
  let producer: ClusterClient;
  let listenerClient: ClusterClient;
  const children = new Set<ChildProcess>();
  const closers: (() => Promise<unknown>)[] = [];
  let rootNodes: () => { host: string; port: number }[];

  before(async () => {
    const cluster = await sharedCluster();
    rootNodes = () => cluster.getRootNodes();
    producer = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    listenerClient = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await Promise.all([producer.connect(), listenerClient.connect()]);
  });
  after(async () => {
    const exits = [...children].map((c) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r()))));
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(exits);
    for (const close of closers.splice(0)) await close();
    await Promise.all([producer?.quit(), listenerClient?.quit()]);
  });

  function startWorker(config: unknown, onHang: (pid: number) => void): Promise<ChildProcess> {
    const child = fork(FIXTURE, [JSON.stringify(config)], { cwd: root, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    children.add(child);
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', () => children.delete(child));
    return new Promise((resolve, reject) => {
      child.on('message', (m: { t: string; pid: number }) => {
        if (m.t === 'ready') resolve(child);
        if (m.t === 'hanging') onHang(m.pid);
      });
      child.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready:\n${err}`)));
    });
  }

  it('completed, progress, failed, dead and stalled from 2 worker processes reach a listener on another client, each once', async () => {
    const name = `wqe-${randomUUID().slice(0, 8)}`;
    const config = { rootNodes: rootNodes(), queue: name, partitions: 3 };
    // Sample: docs/05-queues.md#queue-events
    const events = new QueueEvents(listenerClient, name, { partitions: 3 });
    const seen = { completed: new Map<string, number>(), progress: 0, failed: 0, failedFinal: 0, dead: [] as string[], stalled: [] as string[] };
    events.on('completed', (e) => void seen.completed.set(e.jobId, (seen.completed.get(e.jobId) ?? 0) + 1));
    events.on('progress', (e) => void (e.progress === 50 && seen.progress++));
    events.on('failed', (e) => void (e.retryInMs === undefined ? seen.failedFinal++ : seen.failed++));
    events.on('dead', (e) => void seen.dead.push(e.jobId));
    events.on('stalled', (e) => void seen.stalled.push(`${e.jobId}#${e.attempt}`));
    await events.start();
    closers.push(() => events.close());

    let hung: number | undefined;
    const workers = await Promise.all([0, 1].map(() => startWorker(config, (pid) => (hung = pid))));
    const q = new WorkQueue<{ mode: string }>(producer, name, { partitions: 3 });
    const ok = Array.from({ length: 200 }, (_, i) => ({ payload: { mode: 'ok' }, options: { jobId: `ok-${i}` } }));
    const fail = Array.from({ length: 5 }, (_, i) => ({ payload: { mode: 'fail' }, options: { jobId: `fail-${i}` } }));
    // The hanging job first, alone: the worker killed below then holds no other job, so it is the only stall.
    await q.add({ mode: 'hang' }, { jobId: 'hang' });
    await waitFor(() => hung !== undefined, { what: 'the hanging job to start' });
    workers.find((w) => w.pid === hung)!.kill('SIGKILL');
    await startWorker(config, () => undefined); // keep two workers
    await q.addBulk([...ok, ...fail]);

    await waitFor(() => seen.completed.size === 201 && seen.dead.length === 5, { timeoutMs: 30_000, what: `201 completed (${seen.completed.size}) and 5 dead (${seen.dead.length})` });
    console.log(`      events seen: ${seen.completed.size} completed, ${seen.progress} progress, ${seen.failed} failed with a retry, ${seen.failedFinal} failed for good, ${seen.dead.length} dead, stalled ${seen.stalled.join(',')}`);
    assert.deepEqual([...seen.completed.values()].filter((n) => n !== 1), [], 'each completion once');
    const lapsed = seen.stalled.filter((x) => x !== 'hang#2').length;
    // 201 progress reports; a job whose lease lapsed under load (see below) may report again when taken over.
    assert.ok(seen.progress >= 201 && seen.progress <= 201 + 2 * lapsed, `progress ${seen.progress}, lapsed leases ${lapsed}`);
    assert.equal(seen.failed, 5);
    assert.equal(seen.failedFinal, 5);
    assert.deepEqual(seen.dead.sort(), fail.map((f) => f.options.jobId).sort());
    // The SIGKILLed worker's job is taken over. On a starved machine a live worker's lease can lapse
    // too (at-least-once): such a job is then also reported stalled, and still completes once.
    assert.ok(seen.stalled.includes('hang#2'), `hang#2 among ${seen.stalled.join(',')}`);
    for (const s of seen.stalled.filter((x) => x !== 'hang#2')) assert.equal(seen.completed.get(s.split('#')[0]!), 1, `${s} stalled and completed once`);
  });

  it('the events stream stays bounded (MAXLEN ~ eventsMaxLen per partition); 0 writes none', async () => {
    const name = `wqe-${randomUUID().slice(0, 8)}`;
    const q = new WorkQueue<number>(producer, name, { eventsMaxLen: 50 });
    closers.push(() => q.close({ timeoutMs: 1000 }));
    let done = 0;
    await q.process(() => void done++, { concurrency: 32 });
    await q.addBulk(Array.from({ length: 1000 }, (_, i) => ({ payload: i })));
    await waitFor(() => done === 1000, { timeoutMs: 30_000, what: `1000 jobs (${done})` });
    const len = await producer.xlen(q.partitions[0]!.events);
    console.log(`      1000 jobs, eventsMaxLen 50: XLEN ${len}`);
    // MAXLEN ~ trims whole stream nodes (stream-node-max-entries, 100 by default): up to 100 more.
    assert.ok(len >= 50 && len <= 150, `length ${len}`);

    const silent = new WorkQueue<number>(producer, `${name}-s`, { eventsMaxLen: 0 });
    closers.push(() => silent.close({ timeoutMs: 1000 }));
    let n = 0;
    await silent.process(() => void n++);
    await silent.add(1);
    await waitFor(() => n === 1, { what: 'the job' });
    await waitFor(async () => (await silent.stats()).inFlight === 0, { what: 'its ack' });
    assert.equal(await producer.exists(silent.partitions[0]!.events), 0);
  });

  it('bad options: InvalidArgumentError naming the option', () => {
    assert.throws(() => new QueueEvents(listenerClient, 'x', { partitions: 0 }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'partitions');
    assert.throws(() => new QueueEvents(listenerClient, 'x', { from: 'latest' as never }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'from');
    assert.throws(() => new QueueEvents(listenerClient, 'x', { bogus: 1 } as never), (e: unknown) => e instanceof InvalidArgumentError && /bogus/.test(e.argument));
    assert.throws(() => new WorkQueue(listenerClient, 'x', { eventsMaxLen: -1 }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'eventsMaxLen');
  });
});
