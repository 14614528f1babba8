/**
 * Reentrant Mutex on the shared cluster: the same owner identity is granted
 * again and must release as many times; other identities are excluded until
 * then — across concurrent async flows of one owner, of different owners,
 * and across clients.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { waitFor } from '../../helpers/wait.js';
import { ClusterClient, InvalidArgumentError, Mutex, Semaphore } from '../../../lib/index.js';
import { sharedCluster } from '../../helpers/cluster.js';

describe('lock: reentrant Mutex', function () {
  let client: ClusterClient;
  let other: ClusterClient;
  const prefix = `t-reent-${randomUUID().slice(0, 8)}`;
  let n = 0;
  const name = () => `${prefix}:${n++}`;

  before(async () => {
    const cluster = await sharedCluster();
    client = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    other = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await Promise.all([client.connect(), other.connect()]);
  });
  after(async () => {
    await Promise.all([client?.quit(), other?.quit()]);
  });

  it('the same owner re-acquires (same token) and must release as many times; another owner waits for the last release', async () => {
    const m = new Mutex(client, name(), { reentrant: true, leaseMs: 5000 });
    const h1 = await m.acquire({ owner: 'order-service:job-1' });
    const h2 = await m.acquire({ owner: 'order-service:job-1', waitMs: 0 });
    assert.equal(h2.token, h1.token, 'one ownership, one fencing token');
    const rival = new Mutex(other, m.name, { reentrant: true });
    assert.equal(await rival.tryAcquire({ owner: 'order-service:job-2' }), null);
    assert.equal(await m.tryAcquire({ owner: 'order-service:job-2' }), null, 'same Mutex object, other owner: excluded');
    assert.equal(await new Mutex(other, m.name).tryAcquire(), null, 'a non-reentrant acquirer is excluded too');
    assert.equal(await h1.release(), true);
    assert.equal((await m.inspect()).held, true, 'one hold left');
    assert.equal(await rival.tryAcquire({ owner: 'order-service:job-2' }), null);
    assert.equal(await h1.release(), true, 'releasing the same handle again is a no-op, not a second release');
    assert.equal((await m.inspect()).held, true, 'still held: h2 was not released');
    assert.equal(await h2.release(), true);
    const next = await rival.acquire({ owner: 'order-service:job-2', waitMs: 5000 });
    assert.ok(next.token > h1.token);
    await next.release();
  });

  it('two concurrent async flows of one owner both hold it; a flow of another owner is excluded until both are done', async () => {
    const m = new Mutex(client, name(), { reentrant: true, leaseMs: 5000 });
    const rival = new Mutex(other, m.name, { reentrant: true });
    const inside = new Set<string>();
    let bothInside = false;
    const flow = (id: string) => m.using(async (_signal, h) => {
      inside.add(id);
      // Each flow yields several times while holding: the other flow gets in meanwhile.
      for (let i = 0; i < 20 && !(inside.has('a') && inside.has('b')); i++) await delay(5);
      bothInside ||= inside.has('a') && inside.has('b');
      await delay(20);
      inside.delete(id);
      return h;
    }, { waitMs: 5000 });
    const pa = flow('a');
    const pb = flow('b');
    // The rival asks once the owner holds the lock (a flow is inside), not after a guessed delay.
    const rivalGrant = (async () => {
      await waitFor(() => inside.size > 0, { what: 'a flow of the owner inside the lock' });
      return rival.acquire({ owner: 'someone-else', waitMs: 10_000 });
    })();
    const [ha, hb] = await Promise.all([pa, pb]);
    const r = await rivalGrant;
    assert.equal(bothInside, true, 'the two flows of the same owner overlapped');
    assert.equal(ha.token, hb.token);
    assert.ok(r.acquiredAtUs >= Math.max(ha.releasedAtUs!, hb.releasedAtUs!), 'the other owner got it only after the last release (server time)');
    await r.release();
  });

  it('nested using() of one owner does not deadlock; different owners in concurrent flows never overlap (exact counter)', async () => {
    const m = new Mutex(client, name(), { reentrant: true, leaseMs: 5000, retryDelayMs: 20 });
    const nested = await m.using(async () => m.using(async (_s, inner) => inner.token, { waitMs: 0 }));
    assert.ok(nested > 0);

    const key = `${prefix}:counter`;
    const intervals: [number, number][] = [];
    const worker = async (owner: string) => {
      for (let i = 0; i < 15; i++) {
        const h = await m.acquire({ owner, waitMs: 20_000 });
        const v = Number((await client.get(key)) ?? 0);
        await delay(Math.random() < 0.5 ? 0 : 2);
        await client.set(key, String(v + 1));
        await h.release();
        intervals.push([h.acquiredAtUs, h.releasedAtUs!]);
      }
    };
    await Promise.all(['w1', 'w2', 'w3', 'w4'].map(worker));
    assert.equal(await client.get(key), '60', 'no lost update between different owners');
    intervals.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < intervals.length; i++) assert.ok(intervals[i]![0] >= intervals[i - 1]![1], 'grants of different owners never overlap');
  });

  it('a re-entry with a shorter lease never shortens the grant; the watchdog renews every hold', async () => {
    const nm = name();
    const long = new Mutex(client, nm, { reentrant: true, owner: 'svc-1', leaseMs: 10_000 });
    const short = new Mutex(client, nm, { reentrant: true, owner: 'svc-1', leaseMs: 400, autoExtend: true });
    const outer = await long.acquire();
    const inner = await short.acquire({ waitMs: 0 });
    assert.ok(Number(await client.pttl(long.keys.base)) > 5000, 'the outer lease is kept');
    await outer.release();
    // Only the 400 ms hold is left; its watchdog keeps it for three leases.
    await delay(1200);
    assert.equal(inner.held, true);
    assert.equal(await new Mutex(other, nm).tryAcquire(), null);
    assert.equal(await inner.release(), true);
    assert.equal((await long.inspect()).held, false);
  });

  it('bad input: owner only with reentrant: true, a non-empty string; nothing written', async () => {
    const nm = name();
    const plain = new Mutex(client, nm);
    await assert.rejects(plain.acquire({ owner: 'x' }), (e: unknown) => e instanceof InvalidArgumentError && e.message.includes('reentrant'));
    await assert.rejects(plain.tryAcquire({ owner: 'x' }), InvalidArgumentError);
    await assert.rejects(new Semaphore(client, nm, { permits: 2 }).acquire({ owner: 'x' }), InvalidArgumentError);
    assert.throws(() => new Mutex(client, nm, { owner: 'x' }), (e: unknown) => e instanceof InvalidArgumentError && e.message.includes('reentrant'));
    assert.throws(() => new Mutex(client, nm, { reentrant: 'yes' as never }), (e: unknown) => e instanceof InvalidArgumentError && e.message.includes('reentrant'));
    const r = new Mutex(client, nm, { reentrant: true });
    await assert.rejects(r.acquire({ owner: '' }), (e: unknown) => e instanceof InvalidArgumentError && e.message.includes('owner'));
    await assert.rejects(r.acquire({ owner: 'x'.repeat(300) }), InvalidArgumentError);
    assert.equal((await plain.inspect()).held, false);
    assert.equal(await client.exists(plain.keys.base, plain.keys.key('fence')), 0, 'nothing written');
  });
});
