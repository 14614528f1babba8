/**
 * Semaphore (expiring permits), ReadWriteLock and CountDownLatch on the
 * shared cluster.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import {
  ClusterClient, CountDownLatch, InvalidArgumentError, LockNotAcquiredError, ReadWriteLock, Semaphore,
} from '../../../lib/index.js';
import { sharedCluster } from '../../helpers/cluster.js';
import { spawnFixture } from '../../helpers/children.js';
import { waitFor } from '../../helpers/wait.js';

const FIXTURE = new URL('../../fixtures/lock-child.ts', import.meta.url).pathname;

describe('lock: Semaphore, ReadWriteLock, CountDownLatch', function () {
  this.timeout(120_000);
  let client: ClusterClient;
  let rootNodes: { host: string; port: number }[];
  const prefix = `t-sem-${randomUUID().slice(0, 8)}`;

  before(async () => {
    const cluster = await sharedCluster();
    rootNodes = cluster.getRootNodes();
    client = new ClusterClient({ rootNodes });
    await client.connect();
  });
  after(async () => {
    await client?.quit();
  });

  it('a semaphore with 3 permits never has more than 3 holders among 20 contenders', async () => {
    const sem = new Semaphore(client, `${prefix}:three`, { permits: 3, leaseMs: 10_000, retryDelayMs: 50 });
    let inside = 0;
    let peak = 0;
    let grants = 0;
    const intervals: [number, number][] = [];
    const contender = async () => {
      for (let i = 0; i < 10; i++) {
        const h = await sem.acquire({ waitMs: 60_000 });
        inside++;
        peak = Math.max(peak, inside);
        grants++;
        await delay(Math.random() * 5);
        inside--;
        assert.equal(await h.release(), true);
        intervals.push([h.acquiredAtUs, h.releasedAtUs!]);
      }
    };
    await Promise.all(Array.from({ length: 20 }, contender));
    assert.equal(grants, 200);
    assert.ok(peak <= 3, `peak ${peak} holders`);
    assert.equal(peak, 3, 'all permits were used');
    // Server-time check: at any grant, at most 2 other permits were out.
    for (const [a] of intervals) {
      const out = intervals.filter(([s, e]) => s <= a && a < e).length;
      assert.ok(out <= 3, `${out} permits out at ${a}`);
    }
    assert.equal(await sem.used(), 0);
  });

  it("a holder killed with SIGKILL gets its permit back after the lease", async () => {
    const name = `${prefix}:reclaim`;
    const sem = new Semaphore(client, name, { permits: 2, leaseMs: 1000 });
    const child = spawnFixture(FIXTURE, { mode: 'semaphore', rootNodes, name, permits: 2, leaseMs: 1000 });
    try {
      await child.next('acquired');
      const mine = await sem.acquire();
      assert.equal(await sem.tryAcquire(), null, 'both permits out');
      // The child's watchdog keeps its permit alive for as long as it runs.
      await waitFor(async () => Number(await client.zcard(sem.keys.key('holders'))) === 2, { what: 'two holders' });
      child.proc.kill('SIGKILL');
      await child.exited;
      const back = await sem.acquire({ waitMs: 30_000 });
      assert.ok(back.token > mine.token);
      await Promise.all([mine.release(), back.release()]);
    } finally {
      child.proc.kill('SIGKILL');
      await child.exited;
    }
  });

  it('semaphore bad input: permits, lease', async () => {
    assert.throws(() => new Semaphore(client, `${prefix}:bad`, { permits: 0 }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'permits');
    assert.throws(() => new Semaphore(client, `${prefix}:bad`, { permits: 2, leaseMs: 0 }), /leaseMs/);
    assert.throws(() => new Semaphore(client, '', { permits: 2 }), /name/);
  });

  it('read-write lock: readers share, a writer excludes them, a waiting writer blocks new readers', async () => {
    const rw = new ReadWriteLock(client, `${prefix}:rw`, { leaseMs: 10_000, retryDelayMs: 50 });
    const r1 = await rw.readLock.acquire();
    const r2 = await rw.readLock.acquire();
    assert.ok(r2.token > r1.token);
    await assert.rejects(rw.writeLock.acquire({ waitMs: 100 }), LockNotAcquiredError);
    // The writer waits; while it does, a new reader may not enter.
    const writer = rw.writeLock.acquire({ waitMs: 30_000 });
    await waitFor(async () => Number(await client.exists(rw.readLock.keys.key('intent'))) === 1, { what: 'writer intent' });
    assert.equal(await rw.readLock.tryAcquire(), null, 'new reader held back by the waiting writer');
    await r1.release();
    await r2.release();
    const w = await writer;
    assert.ok(w.token > r2.token);
    assert.equal(await rw.readLock.tryAcquire(), null);
    assert.equal(await rw.writeLock.tryAcquire(), null);
    await w.release();
    const r3 = await rw.readLock.acquire({ waitMs: 0 });
    await r3.release();
  });

  it('read-write lock: using() on both sides, readers renewed by the watchdog', async () => {
    const rw = new ReadWriteLock(client, `${prefix}:rw2`, { leaseMs: 300 });
    let reads = 0;
    await Promise.all([1, 2, 3].map(() => rw.readLock.using(async (signal) => {
      reads++;
      await delay(700); // longer than the lease: only renewals keep it
      assert.equal(signal.aborted, false);
    })));
    assert.equal(reads, 3);
    assert.equal(await rw.writeLock.using(async () => 'written'), 'written');
  });

  it('count-down latch: wait() resolves when the count reaches zero, from any client', async () => {
    const latch = new CountDownLatch(client, `${prefix}:latch`);
    assert.equal(await latch.trySetCount(3, { ttlMs: 60_000 }), true);
    assert.equal(await latch.trySetCount(5), false, 'already armed');
    assert.equal(await latch.getCount(), 3);
    assert.equal(await latch.wait({ waitMs: 50 }), false);
    const waiting = latch.wait({ waitMs: 30_000 });
    assert.equal(await latch.countDown(), 2);
    assert.equal(await latch.countDown(), 1);
    assert.equal(await latch.countDown(), 0);
    assert.equal(await waiting, true);
    assert.equal(await latch.countDown(), 0, 'an open latch stays open');
    await assert.rejects(latch.trySetCount(0), InvalidArgumentError);
  });
});
