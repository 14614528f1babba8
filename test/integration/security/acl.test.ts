/**
 * Least privilege: each part of slotwise runs as an ACL user holding exactly
 * the rules in test/helpers/acl.ts (the list docs/13-security.md shows), and
 * those users are refused what they do not need. The engine itself runs as
 * its own all-permissions user ('admin'), as engine admin requires.
 */
import assert from 'node:assert/strict';
import { ClusterClient, Mutex, QueueEvents, Semaphore, SessionStore, slotOf, WorkQueue } from '../../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../../testcontainers/index.js';
import { aclUser, type AclPart } from '../../helpers/acl.js';
import { trackedRawConnections } from '../../helpers/cluster.js';
import { waitFor } from '../../helpers/wait.js';

const NOPERM = /NOPERM/;

describe('security: least-privilege ACL users', function () {
  this.timeout(120_000);
  let cluster: StartedRedisCluster;
  const clients: ClusterClient[] = [];
  const raw = trackedRawConnections();

  before(async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).withUser('admin', 'admin-pw').start();
    for (const part of ['router', 'locks', 'queues', 'pubsub', 'sessions'] as const) {
      await Promise.all(cluster.getPorts().map((p) => raw(p, cluster).call('ACL', 'SETUSER', ...aclUser(part, `${part}-pw`, part))));
    }
    // Keyspace notifications are the operator's job (CONFIG SET is not granted to apps).
    await Promise.all(cluster.getPorts().map((p) => raw(p, cluster).call('CONFIG', 'SET', 'notify-keyspace-events', 'KEA')));
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
    await cluster?.stop();
  });

  async function as(part: AclPart, extra: Partial<ConstructorParameters<typeof ClusterClient>[0]> = {}): Promise<ClusterClient> {
    const c = new ClusterClient({ rootNodes: cluster.getRootNodes(), username: part, password: `${part}-pw`, ...extra });
    clients.push(c);
    await c.connect();
    return c;
  }

  it('router: discovery, reads/writes on every master, cross-slot ops, pipeline, transaction, SCAN, replica reads, re-AUTH', async () => {
    const c = await as('router');
    const keys = Array.from({ length: 30 }, (_, i) => `app:${i}`);
    assert.equal(new Set(keys.map((k) => c.topology!.shardOf(slotOf(k))!.master.address)).size, 3);
    await c.mset(Object.fromEntries(keys.map((k) => [k, k])));
    assert.deepEqual(await c.mget(keys), keys);
    assert.deepEqual(await c.pipeline().set('app:p', '1').get('app:p').exec(), [[null, 'OK'], [null, '1']]);
    assert.deepEqual(await c.multi().incr('app:{t}n').incr('app:{t}n').exec(), [[null, 1], [null, 2]]);
    const scanned: string[] = [];
    for await (const k of c.scanIterator({ match: 'app:*' })) scanned.push(k);
    assert.ok(keys.every((k) => scanned.includes(k)));
    assert.ok((await c.dbsize()) >= keys.length);
    assert.equal(await c.del(keys), keys.length);
    await c.reauthenticate();

    const reader = await as('router', { readFrom: 'replica' });
    await c.set('app:r', 'x');
    await waitFor(async () => (await reader.get('app:r')) === 'x', { what: 'a replica read as the router user' });

    await assert.rejects(c.set('other:x', '1'), NOPERM);
    await assert.rejects(c.call('FLUSHALL'), NOPERM);
    await assert.rejects(c.call('CONFIG', 'GET', 'maxmemory'), NOPERM);
  });

  it('locks: Mutex with a waiter woken by the release, Semaphore', async () => {
    const c = await as('locks');
    const m = new Mutex(c, 'acl-lock', { leaseMs: 5000 });
    const held = await m.acquire();
    const waiting = new Mutex(c, 'acl-lock', { leaseMs: 5000 }).acquire({ waitMs: 10_000 });
    await held.release();
    await (await waiting).release();
    const s = new Semaphore(c, 'acl-sem', { permits: 2, leaseMs: 5000 });
    const permits = await Promise.all([s.acquire(), s.acquire()]);
    await Promise.all(permits.map((p) => p.release()));
    await assert.rejects(c.get('app:x'), NOPERM);
  });

  it('queues: a job added, processed and completed; a failed job retried; priorities, bounded retention and events', async () => {
    const c = await as('queues');
    // Priority levels, a count-bounded completed set (ZPOPMIN in the ack script) and a QueueEvents listener, all as the queues user.
    const q = new WorkQueue<{ n: number }>(c, 'acl-q', { partitions: 3, priorities: 2, removeOnComplete: { count: 1 } });
    const events = new QueueEvents(c, 'acl-q', { partitions: 3 });
    const completed = new Set<string>();
    events.on('completed', (e) => void completed.add(e.jobId));
    await events.start();
    const done: number[] = [];
    let failedOnce = false;
    await q.process((job) => {
      if (job.data.n === 2 && !failedOnce) {
        failedOnce = true;
        throw new Error('first try fails');
      }
      done.push(job.data.n);
    });
    await q.add({ n: 1 }, { jobId: 'one', partitionKey: 'k' });
    await q.add({ n: 2 }, { jobId: 'two', partitionKey: 'k', priority: 1 });
    await waitFor(() => done.includes(1) && done.includes(2), { timeoutMs: 20_000, what: 'both jobs processed as the queues user' });
    await waitFor(() => completed.has('one') && completed.has('two'), { what: 'both completed events' });
    await q.close();
    await events.close();
    await assert.rejects(c.get('app:x'), NOPERM);
  });

  it('pub/sub: classic, pattern, sharded and keyspace subscriptions', async () => {
    const c = await as('pubsub');
    const got: string[] = [];
    const subs = [
      await c.subscribe('app:chan', (m) => void got.push(`c:${m}`)),
      await c.psubscribe('app:pat*', (m) => void got.push(`p:${m}`)),
      await c.ssubscribe('app:{s}', (m) => void got.push(`s:${m}`)),
    ];
    const events: string[] = [];
    const ks = await c.keyspaceEvents({ channel: 'keyspace', keyPattern: 'app:*', events: ['set'] }, (e) => void events.push(`${e.event}:${e.key}`));
    await c.publish('app:chan', '1');
    await c.publish('app:pattern', '2');
    await c.spublish('app:{s}', '3');
    // Another service (the admin user here) writes keys on every master.
    const writer = new ClusterClient({ rootNodes: cluster.getRootNodes(), username: 'admin', password: 'admin-pw' });
    clients.push(writer);
    const written = Array.from({ length: 12 }, (_, i) => `app:ks:${i}`);
    await Promise.all(written.map((k) => writer.set(k, '1')));
    await waitFor(() => ['c:1', 'p:2', 's:3'].every((m) => got.includes(m)) && written.every((k) => events.includes(`set:${k}`)), {
      what: `every kind of message as the pubsub user (got ${got.join(',')}; ${events.length} keyspace events)`,
    });
    for (const s of [...subs, ks]) await s.unsubscribe();
    await assert.rejects(c.publish('other:chan', 'x'), NOPERM);
  });

  it('sessions: create, read, list by user, destroy, expiry events', async () => {
    const c = await as('sessions');
    const store = new SessionStore(c, { ttlMs: 60_000 });
    const expired: string[] = [];
    store.on('expired', ({ id }) => void expired.push(id));
    await store.watchExpiry();
    const id = await store.create({ a: 1 }, { userId: 'u1' });
    assert.deepEqual(await store.get(id), { a: 1 });
    // A replace that drops an attribute: the in-place path finds the stale field with HKEYS.
    assert.equal(await store.set(id, { c: 3 }), true);
    assert.deepEqual(await store.get(id), { c: 3 });
    assert.deepEqual((await store.listByUser('u1')).map((e) => e.id), [id]);
    const short = await store.create({ b: 2 }, { ttlMs: 200 });
    await waitFor(() => expired.includes(short), { timeoutMs: 20_000, what: 'the expired event as the sessions user' });
    await store.destroy(id);
    await store.close();
    await assert.rejects(c.get('app:x'), NOPERM);
  });
});
