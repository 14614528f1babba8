/** The map follows the cluster: a MOVED from a replica, nodes joining and leaving. */
import assert from 'node:assert/strict';
import { ClusterClient, slotOf, type RedirectInfo } from '../../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../../testcontainers/index.js';
import { waitFor } from '../../helpers/wait.js';

describe('topology changes (integration)', function () {
  this.timeout(120_000);
  let cluster: StartedRedisCluster;

  before(async () => {
    cluster = await new RedisClusterContainer().withMasters(2).withReplicasPerMaster(1).start();
  });
  after(async () => {
    await cluster?.stop();
  });

  it('a MOVED from a replica goes to the new master once, without looping back to a replica', async () => {
    const [a, b] = cluster.getRootNodes();
    const nodes = await cluster.getNodes();
    const aFirst = nodes.find((n) => n.port === a!.port)!.slots[0]![0];
    let key = 'rm:0';
    for (let i = 0; slotOf(key) !== aFirst; i++) key = `rm:${i}`;
    // periodic refresh off: the client keeps its (soon stale) map until a redirect says otherwise
    const client = new ClusterClient({ rootNodes: cluster.getRootNodes(), readFrom: 'replica', topologyRefreshIntervalMs: 0 });
    await client.connect();
    await client.withConnection(key, async (conn) => {
      await conn.call('set', key, 'moved-value');
      await conn.call('wait', '1', '2000');
    });
    assert.equal(await client.get(key), 'moved-value');
    await cluster.reshard({ from: a!.port, to: b!.port, slots: [aFirst] });
    const redirects: RedirectInfo[] = [];
    client.on('redirect', (r) => redirects.push(r));
    assert.equal(await client.get(key), 'moved-value');
    assert.equal(redirects.length, 1, JSON.stringify(redirects));
    assert.equal(redirects[0]!.kind, 'moved');
    assert.equal(client.topology!.node(redirects[0]!.from)!.role, 'replica', 'the stale read went to a replica of the old owner');
    assert.equal(redirects[0]!.to, `127.0.0.1:${b!.port}`);
    await client.quit();
  });

  it('after a failover, a read sent to the demoted master on a stale map is redirected, not served by it', async () => {
    const client = new ClusterClient({ rootNodes: cluster.getRootNodes(), topologyRefreshIntervalMs: 0 });
    await client.connect();
    const master = cluster.getRootNodes()[1]!;
    const shard = client.topology!.shards.find((s) => s.master.port === master.port)!;
    const replica = shard.replicas[0]!;
    let key = 'fo:0';
    for (let i = 0; client.topology!.shardOf(slotOf(key))!.index !== shard.index; i++) key = `fo:${i}`;
    await client.set(key, 'before');
    assert.equal(await client.get(key), 'before', 'the connection to the master is open');
    await cluster.failover(replica.port);
    const redirects: RedirectInfo[] = [];
    client.on('redirect', (r) => redirects.push(r));
    assert.equal(await client.get(key), 'before');
    assert.deepEqual(redirects.map((r) => [r.kind, r.from, r.to]), [['moved', `127.0.0.1:${master.port}`, `127.0.0.1:${replica.port}`]],
      'the demoted master answered MOVED (its connection had no READONLY)');
    await client.quit();
  });

  it('emits node:added for a new master and node:removed (closing its connection) when it leaves', async () => {
    const client = new ClusterClient({ rootNodes: cluster.getRootNodes(), topologyRefreshIntervalMs: 200 });
    const added: string[] = [];
    const removed: string[] = [];
    client.on('node:added', (n) => added.push(n.address));
    client.on('node:removed', (n) => removed.push(n.address));
    await client.connect();
    added.length = 0;
    const fresh = await cluster.addMaster();
    const address = `127.0.0.1:${fresh.port}`;
    await waitFor(() => added.includes(address), { timeoutMs: 10_000, what: 'node:added for the new master' });
    await cluster.reshard({ from: cluster.getRootNodes()[0]!.port, to: fresh.port, slots: 10 });
    const keyOnNew = () => {
      for (let i = 0; ; i++) if (client.topology!.shardOf(slotOf(`nm:${i}`))?.master.address === address) return `nm:${i}`;
    };
    await waitFor(() => client.topology!.shards.some((s) => s.master.address === address && client.topology!.ranges(s.index).length > 0), {
      timeoutMs: 10_000, what: 'the map to show slots on the new master',
    });
    const k = keyOnNew();
    await client.set(k, 'on-new-master');
    assert.equal(await client.get(k), 'on-new-master');
    assert.equal(client.nodes('master').find((n) => n.address === address)!.stats.connection, 'ready');
    await cluster.removeNode(fresh.port);
    await waitFor(() => removed.includes(address), { timeoutMs: 10_000, what: 'node:removed for the removed master' });
    assert.equal(client.nodes('all').some((n) => n.address === address), false);
    assert.equal(await client.get(k), 'on-new-master', 'its keys moved with its slots');
    await client.quit();
  });
});
