/** Credentials reach every node the client discovers, not only the root nodes. */
import assert from 'node:assert/strict';
import { AuthError, ClusterClient, slotOf } from '../../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../../testcontainers/index.js';

describe('authentication on every node (integration)', function () {
  this.timeout(60_000);
  let cluster: StartedRedisCluster;

  before(async () => {
    cluster = await new RedisClusterContainer().withMasters(2).withReplicasPerMaster(1).withUser('app', 's3cret-pass').start();
  });
  after(async () => {
    await cluster?.stop();
  });

  it('an ACL user given once reaches masters and replicas found by discovery', async () => {
    const seed = cluster.getRootNodes()[0]!;
    const client = new ClusterClient({ rootNodes: [seed], username: 'app', password: 's3cret-pass', readFrom: 'replica' });
    await client.connect();
    // keys on both shards: writes go to both masters, reads to both replicas
    const keys = Array.from({ length: 20 }, (_, i) => `auth:${i}`);
    const masters = new Set(keys.map((k) => client.topology!.shardOf(slotOf(k))!.master.address));
    assert.equal(masters.size, 2);
    for (const k of keys) {
      await client.withConnection(k, async (conn) => {
        await conn.call('set', k, 'v');
        await conn.call('wait', '1', '2000');
      });
    }
    assert.deepEqual(await Promise.all(keys.map((k) => client.get(k))), keys.map(() => 'v'));
    const used = client.nodes('all').filter((n) => n.stats.connects > 0);
    assert.ok(used.some((n) => n.role === 'replica') && used.some((n) => n.role === 'master'));
    await client.quit();
  });

  it('without credentials the client fails with AuthError naming the node and the auth problem', async () => {
    const client = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await assert.rejects(client.connect(), (e: unknown) => e instanceof AuthError && e.reason === 'NOAUTH' && /failed on 127\.0\.0\.1:\d+: NOAUTH \(no credentials were given\)/.test(e.message));
    await client.disconnect();
  });
});
