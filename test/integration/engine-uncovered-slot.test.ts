/**
 * fixOpenSlots() also repairs a slot no master claims in its own config while
 * its peers still credit one with it — the state a 5-minute soak (seed 27)
 * reached after a master was killed mid-migration: the credited master reports
 * cluster_state:fail and refuses every command (MIGRATE too, so no open slot
 * of it could be closed). `CLUSTER DELSLOTS` on the owner produces exactly
 * that state: only the node itself forgets the slot.
 */
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { slotOf } from '../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../testcontainers/index.js';

describe('engine: fixOpenSlots() gives an uncovered slot back to its owner', function () {
  this.timeout(60_000);
  let cluster: StartedRedisCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('a master that forgot one of its slots (peers still credit it) gets it back; its keys stay readable', async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(0).start();
    const key = 'uncovered:{k}';
    const slot = slotOf(key);
    const owner = (await cluster.getNodes()).find((n) => n.role === 'master' && n.slots.some(([a, b]) => slot >= a && slot <= b))!;
    const r = new Redis({ host: owner.announcedIp, port: owner.port, lazyConnect: true, retryStrategy: null, disableClientInfo: true });
    r.on('error', () => {});
    try {
      await r.connect();
      await r.set(key, 'kept');
      await r.call('CLUSTER', 'DELSLOTS', slot);
      assert.match(await r.cluster('INFO'), /cluster_state:fail/);
      assert.ok((await cluster.healthProblems()).length > 0);

      const fixes = await cluster.fixOpenSlots();
      assert.deepEqual(fixes.map((f) => [f.slot, f.ownerPort]), [[slot, owner.port]]);
      assert.match(fixes[0]!.action, /uncovered/);
      assert.deepEqual(await cluster.healthProblems(), []);
      assert.equal(await r.get(key), 'kept');
    } finally {
      r.disconnect();
    }
  });

  it('leaves alone the slots of a master that is down (it may come back): no other master takes them', async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(0).start();
    const count = (n: { slots: readonly (readonly [number, number])[] }) => n.slots.reduce((a, [x, y]) => a + y - x + 1, 0);
    const [victim, ...others] = (await cluster.getNodes()).filter((n) => n.role === 'master');
    const before = new Map(others.map((n) => [n.port, count(n)]));
    await cluster.killNode(victim!.port);
    await assert.rejects(cluster.fixOpenSlots({ timeoutMs: 2000 }), /healthy|uncovered/i);
    for (const n of (await cluster.getNodes()).filter((x) => x.port !== victim!.port && x.role === 'master')) {
      assert.equal(count(n), before.get(n.port), `master ${n.port} still serves only its own slots`);
    }
  });
});
