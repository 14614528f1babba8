/**
 * Helper metrics with the real OpenTelemetry SDK (metric reader collected on
 * demand): lock waits and grants, queue jobs by outcome with lag and
 * processing time, queue depth per partition, consistent with what the test
 * ran; nothing of a payload or key name in any record. Shared cluster.
 */
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { ClusterClient, Mutex, Redlock, Semaphore, SessionStore, WorkQueue } from '../../../lib/index.js';
import { sharedCluster } from '../../helpers/cluster.js';
import { installOtel, type TestOtel } from '../../helpers/otel.js';
import { waitFor } from '../../helpers/wait.js';

const SECRET = 'Sekrit-Payload-92f1c4';

interface Point { readonly attributes: Record<string, unknown>; readonly value: unknown }
interface Hist { readonly count: number; readonly sum: number; readonly min?: number }

async function points(otel: TestOtel, name: string): Promise<Point[]> {
  const rm = await otel.collect();
  const out: Point[] = [];
  for (const sm of rm.scopeMetrics) for (const m of sm.metrics) if (m.descriptor.name === name) out.push(...(m.dataPoints as Point[]));
  return out;
}

function matching(ps: readonly Point[], attrs: Record<string, unknown>): Point[] {
  return ps.filter((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v));
}

function countOf(ps: readonly Point[], attrs: Record<string, unknown>): number {
  return matching(ps, attrs).reduce((n, p) => n + (typeof p.value === 'number' ? p.value : (p.value as Hist).count), 0);
}

describe('telemetry: helper metrics (integration)', function () {
  let otel: TestOtel;
  let client: ClusterClient;
  const run = Date.now().toString(36);

  before(async () => {
    const cluster = await sharedCluster();
    otel = installOtel();
    client = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await client.connect();
  });
  after(async () => {
    await client?.quit();
    await otel?.uninstall();
  });

  it('locks: every wait is recorded with its outcome, every grant counted', async () => {
    const mutex = new Mutex(client, `hm-mutex-${run}`);
    for (let i = 0; i < 5; i++) await mutex.using(async () => undefined);
    const held = await mutex.acquire();
    assert.equal(await mutex.tryAcquire(), null);
    await assert.rejects(mutex.acquire({ waitMs: 50 }), { code: 'ERR_SLOTWISE_LOCK_NOT_ACQUIRED' });
    await held.release();
    const sem = new Semaphore(client, `hm-sem-${run}`, { permits: 2 });
    const permits = await Promise.all([sem.acquire(), sem.acquire()]);
    await Promise.all(permits.map((p) => p.release()));
    const redlock = new Redlock([client], `hm-redlock-${run}`);
    await redlock.using(async () => undefined);

    const waits = await points(otel, 'slotwise.lock.wait.duration');
    assert.equal(countOf(waits, { 'slotwise.lock.kind': 'Mutex', 'slotwise.lock.outcome': 'granted' }), 6);
    assert.equal(countOf(waits, { 'slotwise.lock.kind': 'Mutex', 'slotwise.lock.outcome': 'failed', 'error.type': 'ERR_SLOTWISE_LOCK_NOT_ACQUIRED' }), 2);
    const failedWait = matching(waits, { 'slotwise.lock.kind': 'Mutex', 'slotwise.lock.outcome': 'failed' })[0]!.value as Hist;
    assert.ok(failedWait.sum >= 0.05, `the 50 ms wait is in the sum (${failedWait.sum} s)`);
    assert.equal(countOf(waits, { 'slotwise.lock.kind': 'Semaphore', 'slotwise.lock.outcome': 'granted' }), 2);
    assert.equal(countOf(waits, { 'slotwise.lock.kind': 'Redlock', 'slotwise.lock.outcome': 'granted' }), 1);
    const grants = await points(otel, 'slotwise.lock.grants');
    assert.equal(countOf(grants, { 'slotwise.lock.kind': 'Mutex' }), 6);
    assert.equal(countOf(grants, { 'slotwise.lock.kind': 'Semaphore' }), 2);
  });

  it('queues: depth per partition and state, jobs by outcome, lag and processing time', async () => {
    const name = `hm-queue-${run}`;
    const queue = new WorkQueue<{ n: number; secret: string }>(client, name, { partitions: 2, maxDeliveries: 2, backoffBaseMs: 10, backoffMaxMs: 10 });
    try {
      await queue.addBulk(Array.from({ length: 30 }, (_, n) => ({ payload: { n, secret: SECRET } })));
      const depth = await points(otel, 'slotwise.queue.depth');
      const waiting = matching(depth, { 'messaging.destination.name': name, 'slotwise.job.state': 'waiting' });
      assert.equal(waiting.length, 2, 'one point per partition');
      assert.equal(waiting.reduce((n, p) => n + (p.value as number), 0), 30);

      // Jobs 0..24 complete; 25..29 fail twice and die (maxDeliveries 2).
      let settled = 0;
      queue.on('completed', () => settled++);
      queue.on('dead', () => settled++);
      await queue.process(async (job) => {
        if (job.data.n >= 25) throw new Error(`no ${job.data.secret}`);
      }, { concurrency: 8 });
      await waitFor(() => settled === 30, { timeoutMs: 20_000, what: '30 jobs to settle' });

      const jobs = await points(otel, 'slotwise.queue.jobs');
      const q = { 'messaging.destination.name': name };
      assert.equal(countOf(jobs, { ...q, 'slotwise.job.outcome': 'completed' }), 25);
      assert.equal(countOf(jobs, { ...q, 'slotwise.job.outcome': 'failed' }), 5, 'the first delivery of each failing job');
      assert.equal(countOf(jobs, { ...q, 'slotwise.job.outcome': 'dead' }), 5);
      assert.deepEqual(new Set(matching(jobs, q).map((p) => p.attributes['messaging.destination.partition.id'])), new Set(['0', '1']));
      const processed = await points(otel, 'messaging.process.duration');
      assert.equal(countOf(processed, q), 35, 'one record per delivery');
      assert.equal(countOf(processed, { ...q, 'error.type': 'Error' }), 10);
      const lag = await points(otel, 'slotwise.queue.lag');
      assert.equal(countOf(lag, q), 35);
      for (const p of matching(lag, q)) assert.ok((p.value as Hist).min! >= 0);

      const after = await points(otel, 'slotwise.queue.depth');
      const sum = (state: string) => matching(after, { ...q, 'slotwise.job.state': state }).reduce((n, p) => n + (p.value as number), 0);
      assert.equal(sum('waiting'), 0);
      assert.equal(sum('dead'), 5);
      const text = inspect(await otel.collect(), { depth: 30 });
      assert.ok(!text.includes(SECRET), 'a payload leaked into a metric');
    } finally {
      await queue.close();
    }
    // A closed queue is no longer read: jobs added by another instance (on a
    // client without metrics) leave its last observed depth as it was. The
    // SDK keeps reporting a cumulative gauge's last points.
    const other = new ClusterClient({ rootNodes: client.options.rootNodes, telemetry: { metrics: false } });
    await other.connect();
    try {
      const producer = new WorkQueue(other, name, { partitions: 2 });
      await producer.addBulk([{ payload: { n: 1, secret: '' } }, { payload: { n: 2, secret: '' } }]);
      assert.equal((await producer.stats()).waiting, 2);
      await producer.close();
    } finally {
      await other.quit();
    }
    const closed = await points(otel, 'slotwise.queue.depth');
    const waitingNow = matching(closed, { 'messaging.destination.name': name, 'slotwise.job.state': 'waiting' });
    assert.equal(waitingNow.reduce((n, p) => n + (p.value as number), 0), 0, 'a closed queue is no longer observed');
  });

  it('sessions: each store operation is recorded once, failures with error.type', async () => {
    const store = new SessionStore(client, { prefix: `hm-sess-${run}` });
    try {
      const id = await store.create({ user: SECRET });
      for (let i = 0; i < 3; i++) assert.deepEqual(await store.get(id), { user: SECRET });
      assert.equal(await store.set(id, { user: 'b' }), true);
      assert.equal(await store.touch(id), true);
      await assert.rejects(store.set(id, { user: 'c' }, { expectedVersion: 99 }), { code: 'ERR_SLOTWISE_SESSION_CONFLICT' });
      assert.equal(await store.destroy(id), true);
      const ops = await points(otel, 'slotwise.session.operation.duration');
      const op = (name: string) => countOf(ops, { 'slotwise.session.operation': name });
      assert.deepEqual({ create: op('create'), get: op('get'), set: op('set'), touch: op('touch'), destroy: op('destroy') },
        { create: 1, get: 3, set: 2, touch: 1, destroy: 1 });
      assert.equal(countOf(ops, { 'slotwise.session.operation': 'set', 'error.type': 'ERR_SLOTWISE_SESSION_CONFLICT' }), 1);
      assert.ok(!inspect(await otel.collect(), { depth: 30 }).includes(id), 'no session id in a metric');
    } finally {
      await store.close();
    }
  });

  it('with metrics off, helpers record nothing', async () => {
    const off = new ClusterClient({ rootNodes: client.options.rootNodes, telemetry: { metrics: false } });
    await off.connect();
    try {
      const before = countOf(await points(otel, 'slotwise.lock.wait.duration'), { 'slotwise.lock.kind': 'Mutex' });
      await new Mutex(off, `hm-off-${run}`).using(async () => undefined);
      await new Mutex(client, `hm-on-${run}`).using(async () => undefined);
      const after = countOf(await points(otel, 'slotwise.lock.wait.duration'), { 'slotwise.lock.kind': 'Mutex' });
      assert.equal(after - before, 1, 'only the wait of the client with metrics on');
    } finally {
      await off.quit();
    }
  });
});
