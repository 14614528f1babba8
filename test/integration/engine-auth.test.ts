import assert from 'node:assert/strict';
import calculateSlot from 'cluster-key-slot';
import { RedisClusterContainer, type StartedRedisCluster } from '../../testcontainers/index.js';
import { trackedRawConnections } from '../helpers/cluster.js';

describe('engine: clusters that require authentication', function () {
  const clusters: StartedRedisCluster[] = [];
  const conn = trackedRawConnections();
  after(async () => {
    await Promise.all(clusters.map((c) => c.stop()));
  });

  it('an ACL user: replicas sync with masteruser, reshard migrates with AUTH2, clients need credentials', async () => {
    const cluster = await new RedisClusterContainer().withMasters(2).withReplicasPerMaster(1).withUser('app', 's3cret-pw').start();
    clusters.push(cluster);
    // Healthy includes master_link_status:up on every replica: masteruser/masterauth work.
    assert.deepEqual(await cluster.healthProblems(), []);
    const urls = cluster.getConnectionUrls();
    assert.match(urls[0]!, /^redis:\/\/app:s3cret-pw@127\.0\.0\.1:\d+$/);

    const [from, to] = (await cluster.getNodes()).filter((n) => n.role === 'master');
    const anonymous = conn(from!.port); // no cluster given: no credentials
    await assert.rejects(anonymous.get('x'), /NOAUTH|NOPERM|Authentication required/i);

    const source = conn(from!.port, cluster);
    const keys: string[] = [];
    for (let i = 0; keys.length < 50; i++) {
      const slot = calculateSlot(`auth-${i}`);
      if (slot < 100) keys.push(`auth-${i}`);
    }
    for (const k of keys) await source.set(k, k);
    const report = await cluster.reshard({ from: from!.port, to: to!.port, slots: 100 });
    assert.equal(report.keys, keys.length);
    const target = conn(to!.port, cluster);
    for (const k of keys) assert.equal(await target.get(k), k);
  });

  it('a plain password: requirepass + masterauth', async () => {
    const cluster = await new RedisClusterContainer().withMasters(1).withReplicasPerMaster(1).withPassword('pa$$word').start();
    clusters.push(cluster);
    assert.deepEqual(await cluster.healthProblems(), []);
    assert.deepEqual(cluster.getConnectionUrls(), [`redis://:pa%24%24word@127.0.0.1:${cluster.getRootNodes()[0]!.port}`]);
    const c = conn(cluster.getRootNodes()[0]!.port, cluster);
    assert.equal(await c.ping(), 'PONG');
  });
});
