/**
 * Client-side caching (issue #15) on the shared cluster: hits never reach a
 * node, writes of this or another client invalidate, tracking loss drops the
 * node's entries, the LRU stays within its bounds and cacheStats() adds up.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ClusterClient, slotOf, type NodeHandle } from '../../../lib/index.js';
import type { StartedRedisCluster } from '../../../testcontainers/index.js';
import { sharedCluster, trackedRawConnections } from '../../helpers/cluster.js';
import { waitFor } from '../../helpers/wait.js';

describe('client-side cache (integration)', function () {
  this.timeout(30_000);
  let cluster: StartedRedisCluster;
  const clients: ClusterClient[] = [];
  const raw = trackedRawConnections();

  before(async () => {
    cluster = await sharedCluster();
  });
  after(async () => {
    await Promise.all(clients.splice(0).map((c) => c.quit()));
  });

  async function cachingClient(cache: ConstructorParameters<typeof ClusterClient>[0]['clientSideCache'] = { maxEntries: 1000 }, extra = {}): Promise<ClusterClient> {
    const c = new ClusterClient({ rootNodes: cluster.getRootNodes(), clientSideCache: cache, ...extra });
    clients.push(c);
    await c.connect();
    return c;
  }

  function ownerOf(c: ClusterClient, key: string): NodeHandle {
    const address = c.topology!.shardOf(slotOf(key))!.master.address;
    return c.nodes('master').find((n) => n.address === address)!;
  }

  /** Reads `key` until the read is a hit (the first read of a node may come before its tracking is on). */
  async function cached(c: ClusterClient, key: string): Promise<void> {
    await waitFor(async () => {
      const before = c.cacheStats().hits;
      await c.get(key);
      return c.cacheStats().hits > before;
    }, { what: `${key} to be served from the cache` });
  }

  it('serves repeated reads from memory: no command reaches the node, hits and misses add up', async () => {
    const c = await cachingClient();
    const key = `csc:${randomUUID()}`;
    await c.set(key, 'v1');
    await cached(c, key);
    const node = ownerOf(c, key);
    const sent = node.stats.commands;
    const before = c.cacheStats();
    for (let i = 0; i < 50; i++) assert.equal(await c.get(key), 'v1');
    assert.equal(node.stats.commands, sent, 'no command was written to the owner');
    const after = c.cacheStats();
    assert.equal(after.hits - before.hits, 50);
    assert.equal(after.misses, before.misses);
    assert.ok(after.entries >= 1 && after.bytes > 0);
  });

  it('a write by another client invalidates the entry: the next read after the invalidation sees the new value', async () => {
    const c = await cachingClient();
    const key = `csc:${randomUUID()}`;
    await c.set(key, 'old');
    await cached(c, key);
    const other = raw(ownerOf(c, key).port, cluster);
    const inv = c.cacheStats().invalidations;
    await other.set(key, 'new');
    await waitFor(() => c.cacheStats().invalidations > inv, { what: 'the invalidation to arrive' });
    assert.equal(await c.get(key), 'new');
    await cached(c, key);
    assert.equal(await c.get(key), 'new');
  });

  it('a write through the same client is visible to its very next read (no wait for the invalidation)', async () => {
    const c = await cachingClient();
    const key = `csc:${randomUUID()}`;
    await c.hset(key, 'f', '1');
    await waitFor(async () => {
      const before = c.cacheStats().hits;
      await c.hget(key, 'f');
      return c.cacheStats().hits > before;
    }, { what: 'HGET to be cached' });
    for (let i = 2; i < 30; i++) {
      await c.hset(key, 'f', String(i));
      assert.equal(await c.hget(key, 'f'), String(i));
    }
  });

  it('never keeps a reply that may mean "no such key" (nil, 0, empty), so a slot move cannot leave it stale', async () => {
    const c = await cachingClient();
    const key = `csc:${randomUUID()}`;
    await cached(c, (await c.set(`${key}:warm`, 'x'), `${key}:warm`));
    const before = c.cacheStats();
    for (let i = 0; i < 5; i++) {
      assert.equal(await c.get(key), null);
      assert.equal(await c.exists(key), 0);
      assert.deepEqual(await c.lrange(key, 0, -1), []);
    }
    const after = c.cacheStats();
    assert.equal(after.hits, before.hits);
    assert.equal(after.misses - before.misses, 15);
    assert.equal(after.entries, before.entries);
  });

  it('losing the invalidation subscriber drops that node\'s entries, and caching resumes once tracking is back', async () => {
    const c = await cachingClient();
    const key = `csc:${randomUUID()}`;
    await c.set(key, 'v');
    await cached(c, key);
    const node = ownerOf(c, key);
    const inv = c.cacheStats().invalidations;
    // Kill our invalidation subscriber on that node (the server then stops redirecting).
    const admin = raw(node.port, cluster);
    const killed = await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub') as number;
    assert.ok(killed >= 1);
    await waitFor(() => c.cacheStats().invalidations > inv, { what: 'the node\'s entries to be dropped' });
    await cached(c, key);
    // Tracking is live again: another client's write is seen.
    const inv2 = c.cacheStats().invalidations;
    await admin.set(key, 'after');
    await waitFor(() => c.cacheStats().invalidations > inv2, { what: 'an invalidation through the new subscriber' });
    assert.equal(await c.get(key), 'after');
  });

  it('losing the data connection drops that node\'s entries (the server forgot what it tracked for it)', async () => {
    const name = `csc-${randomUUID().slice(0, 8)}`;
    const c = await cachingClient({ maxEntries: 100 }, { connectionName: name });
    const key = `csc:${randomUUID()}`;
    await c.set(key, 'v');
    await cached(c, key);
    const node = ownerOf(c, key);
    const admin = raw(node.port, cluster);
    const list = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'normal'));
    const id = list.split('\n').find((l) => l.includes(` name=${name} `) && l.includes('flags=t'))?.match(/^id=(\d+)/)?.[1];
    assert.ok(id, 'the tracked data connection is listed (flags=t)');
    const inv = c.cacheStats().invalidations;
    await admin.call('CLIENT', 'KILL', 'ID', id);
    await waitFor(() => c.cacheStats().invalidations > inv, { what: 'the node\'s entries to be dropped' });
    const misses = c.cacheStats().misses;
    assert.equal(await c.get(key), 'v');
    assert.equal(c.cacheStats().misses, misses + 1, 'the next read went to Redis');
    await cached(c, key);
  });

  it('never serves from the cache inside multi() or watch()', async () => {
    const c = await cachingClient();
    const key = `{csc}:${randomUUID()}`;
    await c.set(key, 'v');
    await cached(c, key);
    const hits = c.cacheStats().hits;
    await c.watch(key, async (tx) => {
      assert.equal(await tx.get(key), 'v');
      return tx.multi().get(key).exec();
    });
    assert.deepEqual(await c.multi().get(key).exec(), [[null, 'v']]);
    assert.equal(c.cacheStats().hits, hits);
  });

  it('bounds the entries (LRU) and counts evictions', async () => {
    const c = await cachingClient({ maxEntries: 5 });
    const keys = Array.from({ length: 12 }, (_, i) => `{csc-lru}:${randomUUID()}:${i}`);
    for (const k of keys) await c.set(k, k);
    await cached(c, keys[0]!);
    for (const k of keys) await c.get(k);
    const s = c.cacheStats();
    assert.equal(s.entries, 5);
    assert.ok(s.evictions >= 7, `evictions ${s.evictions}`);
    // The 5 most recent are hits, the oldest is gone.
    const hits = s.hits;
    for (const k of keys.slice(-5)) await c.get(k);
    assert.equal(c.cacheStats().hits - hits, 5);
  });

  it('bounds the bytes: never more than maxBytes held, whatever is read', async () => {
    const maxBytes = 8_000;
    const c = await cachingClient({ maxEntries: 10_000, maxBytes });
    const keys = Array.from({ length: 40 }, (_, i) => `{csc-bytes}:${randomUUID()}:${i}`);
    for (const k of keys) await c.set(k, 'x'.repeat(1000));
    await cached(c, keys[0]!);
    for (const k of keys) {
      await c.get(k);
      await c.get(k);
      assert.ok(c.cacheStats().bytes <= maxBytes, `bytes ${c.cacheStats().bytes} > ${maxBytes}`);
    }
    const s = c.cacheStats();
    assert.ok(s.entries >= 5 && s.entries <= 8, `entries ${s.entries}`);
    assert.ok(s.evictions > 0);
  });

  it('expires entries after ttlMs', async () => {
    const c = await cachingClient({ maxEntries: 100, ttlMs: 200 });
    const key = `csc:${randomUUID()}`;
    await c.set(key, 'v');
    await cached(c, key);
    const misses = c.cacheStats().misses;
    await waitFor(async () => {
      await c.get(key);
      return c.cacheStats().misses > misses;
    }, { what: 'the entry to expire', intervalMs: 50 });
    assert.ok(c.cacheStats().evictions >= 1);
  });

  it('replica reads (readFrom) bypass the cache', async () => {
    const c = await cachingClient({ maxEntries: 100 }, { readFrom: 'replica' });
    const key = `csc:${randomUUID()}`;
    await c.set(key, 'v');
    await waitFor(async () => (await c.get(key)) === 'v', { what: 'the replica to have the key' });
    for (let i = 0; i < 5; i++) await c.get(key);
    assert.equal(c.cacheStats().hits, 0);
    assert.equal(c.cacheStats().entries, 0);
  });
});
