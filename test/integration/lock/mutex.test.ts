/**
 * Mutex on the shared cluster: grants, fencing tokens, owner-checked
 * release/extend, waiting and wake-ups, fairness, bad input.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  ClusterClient, FencingTokenRejectedError, InvalidArgumentError, LockLostError, LockNotAcquiredError, Mutex, fenced,
} from '../../../lib/index.js';
import { lockRuntime } from '../../../lib/lock/runtime.js';
import { sharedCluster } from '../../helpers/cluster.js';
import { waitFor } from '../../helpers/wait.js';

describe('lock: Mutex', function () {
  let client: ClusterClient;
  let other: ClusterClient;
  const prefix = `t-mutex-${randomUUID().slice(0, 8)}`;
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

  it('grants one holder at a time, with strictly increasing fencing tokens', async () => {
    const m = new Mutex(client, name(), { leaseMs: 5000 });
    const a = await m.acquire();
    assert.equal(await m.tryAcquire(), null);
    await assert.rejects(new Mutex(other, m.name).acquire({ waitMs: 0 }), (e: unknown) => {
      assert.ok(e instanceof LockNotAcquiredError);
      assert.ok(e.remainingMs > 0 && e.remainingMs <= 5000, `remaining ${e.remainingMs}`);
      return true;
    });
    assert.equal(await a.release(), true);
    const b = await new Mutex(other, m.name).acquire();
    assert.ok(b.token > a.token, `${b.token} > ${a.token}`);
    assert.ok(b.acquiredAtUs >= a.releasedAtUs!, 'granted after the release (server time)');
    await b.release();
    const state = await m.inspect();
    assert.equal(state.held, false);
    assert.equal(state.fence, b.token);
  });

  it('release is owner-checked and idempotent; false when the lease had expired, never touching the next holder', async () => {
    const m = new Mutex(client, name(), { leaseMs: 200 });
    const a = await m.acquire();
    const lost = new Promise<LockLostError>((resolve) => a.once('lost', resolve));
    // Without autoExtend the lease simply runs out; the handle notices locally.
    await waitFor(() => a.signal.aborted, { timeoutMs: 5000, what: 'signal abort at lease end' });
    assert.ok((await lost) instanceof LockLostError);
    const b = await new Mutex(other, m.name, { leaseMs: 5000 }).acquire({ waitMs: 5000 });
    assert.equal(await a.release(), false);
    assert.equal(await a.release(), false, 'idempotent');
    const state = await m.inspect();
    assert.equal(state.held, true);
    assert.equal(state.token, b.token, "b's grant untouched");
    assert.equal(await b.release(), true);
    assert.equal(await b.release(), true, 'idempotent: same answer');
    assert.equal((await m.inspect()).held, false);
  });

  it('extend after loss throws LockLostError and changes nothing on the server', async () => {
    const m = new Mutex(client, name(), { leaseMs: 150 });
    const a = await m.acquire();
    await waitFor(() => !a.held, { timeoutMs: 5000, what: 'lease end' });
    const b = await new Mutex(other, m.name, { leaseMs: 60_000 }).acquire({ waitMs: 5000 });
    const before = await m.inspect();
    await assert.rejects(a.extend(100_000), LockLostError);
    await assert.rejects(m.extend(a, 100_000), LockLostError);
    const after = await m.inspect();
    assert.equal(after.token, before.token);
    assert.ok(after.remainingMs <= before.remainingMs, `lease not stretched (${after.remainingMs} ≤ ${before.remainingMs})`);
    await b.release();
    await assert.rejects(b.extend(1000), /already released/);
  });

  it('extend() resets the lease to the given length', async () => {
    const m = new Mutex(client, name(), { leaseMs: 1000 });
    const a = await m.acquire();
    await a.extend(30_000);
    const s = await m.inspect();
    assert.ok(s.remainingMs > 20_000, `remaining ${s.remainingMs}`);
    assert.ok(a.remainingMs > 20_000);
    await a.release();
  });

  it('a waiter is woken by the release instead of waiting out its poll interval', async () => {
    const m = new Mutex(client, name(), { leaseMs: 30_000, retryDelayMs: 20_000 });
    const a = await m.acquire();
    const t0 = Date.now();
    const waiting = m.acquire({ waitMs: 25_000 });
    // Released only once the waiter tried and parked: a release before its first try proves nothing.
    await waitFor(() => lockRuntime(client).waker.waiting > 0, { what: 'waiter parked' });
    await a.release();
    const b = await waiting;
    const waited = Date.now() - t0;
    assert.ok(waited < 10_000, `woken after ${waited} ms (poll interval 20 s)`);
    await b.release();
  });

  it('a waiter on another client (another process, as far as it knows) is woken by sharded pub/sub', async () => {
    const m = new Mutex(client, name(), { leaseMs: 30_000 });
    const a = await m.acquire();
    const t0 = Date.now();
    const waiting = new Mutex(other, m.name, { leaseMs: 30_000, retryDelayMs: 20_000 }).acquire({ waitMs: 25_000 });
    // Once the waiter's client subscribed to the lock's channel, the release reaches it.
    const subscribers = async () => (await Promise.all(client.nodes('master').map((n) => n.call('PUBSUB', 'SHARDNUMSUB', m.keys.channel) as Promise<[string, number]>)))
      .reduce((sum, r) => sum + Number(r[1]), 0);
    await waitFor(async () => (await subscribers()) > 0, { what: 'waiter subscribed' });
    await a.release();
    const b = await waiting;
    const waited = Date.now() - t0;
    assert.ok(waited < 10_000, `woken after ${waited} ms (poll interval 20 s)`);
    await b.release();
  });

  it('gives up after waitMs with LockNotAcquiredError, and when the signal aborts with its reason', async () => {
    const m = new Mutex(client, name(), { leaseMs: 30_000 });
    const a = await m.acquire();
    await assert.rejects(m.acquire({ waitMs: 200 }), LockNotAcquiredError);
    const ac = new AbortController();
    const p = m.acquire({ waitMs: 30_000, signal: ac.signal });
    ac.abort(new Error('shutting down'));
    await assert.rejects(p, /shutting down/);
    await a.release();
  });

  it('using() holds the lock for the callback, releases it after, and rethrows the callback error', async () => {
    const m = new Mutex(client, name(), { leaseMs: 5000 });
    const v = await m.using(async (signal, h) => {
      assert.equal(signal.aborted, false);
      assert.equal((await m.inspect()).token, h.token);
      return 42;
    });
    assert.equal(v, 42);
    assert.equal((await m.inspect()).held, false);
    await assert.rejects(m.using(() => Promise.reject(new Error('boom'))), /boom/);
    assert.equal((await m.inspect()).held, false);
  });

  it('await using releases the handle at the end of the scope', async () => {
    const m = new Mutex(client, name());
    {
      await using h = await m.acquire();
      assert.ok(h.held);
      assert.equal((await m.inspect()).held, true);
    }
    assert.equal((await m.inspect()).held, false);
  });

  it('fair mode grants in the order waiters arrived (server time)', async () => {
    const m = new Mutex(client, name(), { leaseMs: 10_000, fair: true, retryDelayMs: 50 });
    const holder = await m.acquire();
    const order: number[] = [];
    const waiters: Promise<void>[] = [];
    for (let i = 0; i < 5; i++) {
      const c = i % 2 === 0 ? client : other;
      waiters.push(new Mutex(c, m.name, { leaseMs: 10_000, fair: true, retryDelayMs: 50 }).acquire({ waitMs: 20_000 }).then(async (h) => {
        order.push(i);
        await h.release();
      }));
      // Each waiter must be queued before the next one arrives.
      await waitFor(async () => Number(await client.zcard(m.keys.key('queue'))) === i + 1, { what: `waiter ${i} queued` });
    }
    await holder.release();
    await Promise.all(waiters);
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
    assert.equal(Number(await client.exists(m.keys.key('queue'))), 0, 'queue empty');
  });

  it('fencing: a stale token is refused by fencedSet and by fenced() scripts', async () => {
    const m = new Mutex(client, name(), { leaseMs: 5000 });
    const key = `${prefix}:resource`;
    const a = await m.acquire();
    await a.release();
    const b = await m.acquire();
    await b.fencedSet(key, 'from b');
    await assert.rejects(a.fencedSet(key, 'from a'), FencingTokenRejectedError);
    assert.equal(await client.get(key), 'from b');
    await b.fencedSet(key, 'b again');
    const append = fenced(client, { name: 'append', lua: "return redis.call('APPEND', KEYS[1], ARGV[1])" });
    assert.equal(await append.run(b.fence, [key], ['!']), 'b again!'.length);
    await assert.rejects(append.run(a.fence, [key], ['?']), FencingTokenRejectedError);
    assert.equal(await client.get(key), 'b again!');
    await b.release();
  });

  it('bad input: clear errors and nothing written to Redis', async () => {
    const nm = name();
    assert.throws(() => new Mutex(client, nm, { leaseMs: 0 }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'leaseMs');
    assert.throws(() => new Mutex(client, nm, { leaseMs: -5 }), InvalidArgumentError);
    assert.throws(() => new Mutex(client, ''), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'name');
    assert.throws(() => new Mutex(client, 'a{b}'), /brace/);
    assert.throws(() => new Mutex({} as ClusterClient, nm), /ClusterClient/);
    assert.throws(() => new Mutex(client, nm, { fair: 'yes' as unknown as boolean }), /fair/);
    const m = new Mutex(client, nm, { leaseMs: 5000 });
    await assert.rejects(m.acquire({ waitMs: -1 }), InvalidArgumentError);
    assert.equal(Number(await client.exists(m.keys.base, m.keys.key('fence'), m.keys.key('queue'))), 0, 'rejected input wrote nothing');
    const mine = await m.acquire();
    const foreign = new Mutex(other, nm);
    const before = await m.inspect();
    await assert.rejects(foreign.release(mine), (e: unknown) => e instanceof InvalidArgumentError && /another lock object/.test(e.message));
    await assert.rejects(foreign.extend(mine, 60_000), InvalidArgumentError);
    await assert.rejects(mine.extend(0), InvalidArgumentError);
    const after = await m.inspect();
    assert.equal(after.token, before.token);
    assert.equal(after.held, true);
    assert.ok(after.remainingMs <= before.remainingMs);
    await mine.release();
    assert.equal(Number(await client.exists(`slotwise:mutex:{${nm}}`, `slotwise:mutex:{${nm}}:queue`)), 0);
  });
});
