/**
 * Every engine fault on a mutual-TLS cluster: the engine's admin connections,
 * the cluster bus, replication and MIGRATE all run over TLS, so pause,
 * restart, failover, add and remove must work exactly as on plaintext.
 * (Kill and reshard under load: tls.test.ts.)
 */
import assert from 'node:assert/strict';
import { ClusterClient } from '../../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../../testcontainers/index.js';

describe('security: engine faults on a mutual-TLS cluster', function () {
  this.timeout(180_000);
  let cluster: StartedRedisCluster;
  let client: ClusterClient;

  before(async () => {
    cluster = await new RedisClusterContainer().withMasters(2).withReplicasPerMaster(1).withTls({ mutual: true }).start();
    client = new ClusterClient({ rootNodes: cluster.getRootNodes(), tls: cluster.getTlsOptions(), commandTimeoutMs: 15_000 });
    await client.connect();
    await client.mset(Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`etls:${i}`, String(i)])));
  });
  after(async () => {
    await client?.quit();
    await cluster?.stop();
  });

  const values = async () => client.mget(Array.from({ length: 200 }, (_, i) => `etls:${i}`));
  const expected = Array.from({ length: 200 }, (_, i) => String(i));

  it('pause/resume, restart, failover: healthy after each, data intact', async () => {
    const nodes = await cluster.getNodes();
    const master = nodes.find((n) => n.role === 'master')!;
    const replica = nodes.find((n) => n.masterId === master.id)!;
    await cluster.pauseNode(replica.port);
    await cluster.resumeNode(replica.port);
    assert.deepEqual(await cluster.healthProblems(), []);
    const restarted = await cluster.restartNode(replica.port);
    assert.equal(restarted.role, 'replica');
    const failover = await cluster.failover(replica.port);
    assert.equal(failover.previousMasterPort, master.port);
    assert.equal((await cluster.getNodes()).find((n) => n.port === replica.port)!.role, 'master');
    assert.deepEqual(await values(), expected);
  });

  it('addMaster + reshard to it, addReplica, removeNode: data moved over TLS MIGRATE', async () => {
    const added = await cluster.addMaster();
    const from = (await cluster.getNodes()).find((n) => n.role === 'master' && n.port !== added.port && n.slots.length > 0)!;
    const report = await cluster.reshard({ from: from.port, to: added.port, slots: 2000 });
    assert.ok(report.keys > 0, 'keys were migrated');
    const replica = await cluster.addReplica(added.port);
    assert.equal(replica.masterPort, added.port);
    const removed = await cluster.removeNode(added.port);
    assert.equal(removed.movedSlots, 2000);
    assert.deepEqual(removed.repointedReplicas, [replica.port]);
    assert.deepEqual(await cluster.healthProblems(), []);
    assert.deepEqual(await values(), expected);
  });
});
