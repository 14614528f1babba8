/** `clientSideCache` option validation and the cacheable-reply rules (pure). */
import assert from 'node:assert/strict';
import { ClusterClient, InvalidArgumentError } from '../../../lib/index.js';
import { isCacheableCall, isCacheableReply } from '../../../lib/cache/commands.js';

const rootNodes = ['127.0.0.1:7000'];

describe('client-side cache options (unit)', () => {
  it('is off by default and on with maxEntries', async () => {
    const off = new ClusterClient({ rootNodes });
    const on = new ClusterClient({ rootNodes, clientSideCache: { maxEntries: 10 } });
    try {
      assert.equal(off.options.clientSideCache, undefined);
      assert.deepEqual({ ...on.options.clientSideCache }, { maxEntries: 10, maxBytes: undefined, ttlMs: undefined });
      assert.deepEqual(off.cacheStats(), { hits: 0, misses: 0, sharedReads: 0, invalidations: 0, evictions: 0, entries: 0, bytes: 0 });
    } finally {
      await Promise.all([off.disconnect(), on.disconnect()]);
    }
  });

  for (const [bad, argument] of [
    [{}, 'clientSideCache.maxEntries'],
    [{ maxEntries: 0 }, 'clientSideCache.maxEntries'],
    [{ maxEntries: 1.5 }, 'clientSideCache.maxEntries'],
    [{ maxEntries: 10, maxBytes: -1 }, 'clientSideCache.maxBytes'],
    [{ maxEntries: 10, ttlMs: '5s' }, 'clientSideCache.ttlMs'],
    [{ maxEntries: 10, size: 5 }, 'option "clientSideCache.size"'],
    [true, 'clientSideCache'],
    [null, 'clientSideCache'],
  ] as const) {
    it(`rejects clientSideCache ${JSON.stringify(bad)} naming ${argument}`, () => {
      assert.throws(() => new ClusterClient({ rootNodes, clientSideCache: bad as never }), (e: unknown) =>
        e instanceof InvalidArgumentError && e.code === 'ERR_SLOTWISE_INVALID_ARGUMENT' && e.argument === argument);
    });
  }

  it('caches single-key reads only, with plain arguments', () => {
    assert.ok(isCacheableCall('get', ['k']));
    assert.ok(isCacheableCall('hget', ['k', 'f']));
    assert.ok(isCacheableCall('zrange', ['k', 0, -1, 'WITHSCORES']));
    assert.ok(!isCacheableCall('exists', ['a', 'b']), 'multi-key EXISTS');
    assert.ok(!isCacheableCall('mget', ['a', 'b']));
    assert.ok(!isCacheableCall('ttl', ['k']), 'TTL changes with time, without invalidation');
    assert.ok(!isCacheableCall('set', ['k', 'v']));
    assert.ok(!isCacheableCall('hmget', ['k', ['a', 'b']]), 'arrays to flatten');
  });

  it('never keeps a reply that may mean "no such key"', () => {
    for (const r of [null, 0, [], [null, null], {}]) assert.equal(isCacheableReply(r), false, JSON.stringify(r));
    for (const r of ['', 'v', 1, ['a'], [null, 'x'], { f: 'v' }, Buffer.from('x')]) assert.equal(isCacheableReply(r), true, JSON.stringify(r));
  });
});
