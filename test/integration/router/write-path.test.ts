/**
 * The lean write path end to end on the shared real cluster: what callers get
 * back is what an ioredis Command would have resolved — with the per-tick
 * batch (autoPipelining, the default) and with every command written at once.
 */
import assert from 'node:assert/strict';
import { ClusterClient } from '../../../lib/index.js';
import { sharedCluster } from '../../helpers/cluster.js';

for (const autoPipelining of [true, false]) {
  describe(`write path, autoPipelining ${autoPipelining} (integration)`, function () {
    this.timeout(30_000);
    let c: ClusterClient;

    before(async () => {
      const cluster = await sharedCluster();
      c = new ClusterClient({ rootNodes: cluster.getRootNodes(), autoPipelining });
      await c.connect();
    });
    after(() => c.quit());

    it('many commands to every node in one tick: each caller gets its own reply (strings, UTF-8, Buffers, empty and large values)', async () => {
      const big = 'ü'.repeat(200_000);
      const values = Array.from({ length: 600 }, (_, i) => (i % 50 === 0 ? big + i : i % 7 === 0 ? '' : `v${i}-✓-😀`));
      const tag = `wp${autoPipelining}`;
      const sets = values.map((v, i) => c.set(`${tag}:${i}`, v));
      const gets = values.map((_, i) => c.get(`${tag}:${i}`));
      assert.deepEqual(await Promise.all(sets), new Array(values.length).fill('OK'));
      assert.deepEqual(await Promise.all(gets), values);
      const bin = Buffer.from([0, 255, 13, 10, 36, 42, 0]);
      await c.set(`${tag}:bin`, bin);
      assert.deepEqual(await c.send('GET', [`${tag}:bin`], { buffer: true }), bin);
      assert.equal(await c.incrby(`${tag}:n`, 2 ** 53 + 2), 2 ** 53 + 2);
    });

    it("replies are shaped as ioredis shapes them (HGETALL → object, WITHSCORES pairs, numbers, nil)", async () => {
      const tag = `{wp${autoPipelining}}`;
      await c.hset(`${tag}:h`, { a: '1', b: 'β' });
      await c.zadd(`${tag}:z`, '1', 'x', '2.5', 'y');
      const [h, z, n, nil] = await Promise.all([
        c.hgetall(`${tag}:h`),
        c.zrange(`${tag}:z`, '0', '-1', 'WITHSCORES'),
        c.hlen(`${tag}:h`),
        c.get(`${tag}:missing`),
      ]);
      assert.deepEqual(h, { a: '1', b: 'β' });
      assert.deepEqual(z, ['x', '1', 'y', '2.5']);
      assert.equal(n, 2);
      assert.equal(nil, null);
    });
  });
}
