/**
 * Keyless commands Redis marks for every shard/node (DBSIZE, KEYS, FLUSHDB,
 * FLUSHALL, SCRIPT FLUSH, PING) fan out; on a private cluster because they
 * would wipe the shared one. Last, slots nobody serves make scanIterator
 * fail with TopologyError instead of returning a partial result silently.
 */
import assert from 'node:assert/strict';
import { ClusterClient, TopologyError, slotOf } from '../../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../../testcontainers/index.js';

describe('cluster-wide commands (integration, private cluster)', function () {
  this.timeout(120_000);
  let cluster: StartedRedisCluster;
  let client: ClusterClient;

  before(async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).start();
    client = new ClusterClient({ rootNodes: cluster.getRootNodes(), commandTimeoutMs: 2000 });
    await client.connect();
  });
  after(async () => {
    await client?.quit();
    await cluster?.stop();
  });

  const perMaster = (cmd: string, ...args: string[]) => client.forEachNode('master', (n) => n.call(cmd, ...args));

  it('DBSIZE is the sum over the masters and KEYS the union', async () => {
    const keys = Array.from({ length: 300 }, (_, i) => `cw:${i}`);
    await client.mset(keys.flatMap((k) => [k, '1']));
    const sizes = (await perMaster('dbsize')) as number[];
    assert.ok(sizes.every((n) => n > 0), `keys on every master (${sizes})`);
    assert.equal(await client.dbsize(), 300);
    assert.deepEqual((await client.keys('cw:*')).sort(), [...keys].sort());
    assert.equal(await client.ping(), 'PONG');
  });

  it('FLUSHDB and FLUSHALL empty every master', async () => {
    await client.flushdb();
    assert.deepEqual(await perMaster('dbsize'), [0, 0, 0]);
    await client.mset('a', '1', 'b', '2', 'c', '3', 'd', '4');
    assert.equal(await client.dbsize(), 4);
    assert.equal(await client.flushall(), 'OK');
    assert.equal(await client.dbsize(), 0);
  });

  it('scriptFlush empties the script cache of every node', async () => {
    const sha = await client.scriptLoad('return 7');
    assert.deepEqual(await client.forEachNode('all', (n) => n.call('script', 'exists', sha)), Array(6).fill([1]));
    assert.equal(await client.scriptFlush(), 'OK');
    assert.deepEqual(await client.forEachNode('all', (n) => n.call('script', 'exists', sha)), Array(6).fill([0]));
    // A defined script heals itself on every node (NOSCRIPT → EVAL).
    const script = client.defineScript({ name: 'seven', lua: 'return 7' });
    for (let i = 0; i < 20; i++) assert.equal(await script.run([`s:${i}`]), 7);
  });

  it('scanIterator fails with TopologyError naming the slots when no master serves some of them', async () => {
    await client.mset(Array.from({ length: 200 }, (_, i) => [`gone:${i}`, '1']).flat());
    // Kill a master and its replica: its slots stay uncovered.
    const nodes = await cluster.getNodes();
    const master = nodes.find((n) => n.role === 'master' && n.slots.length > 0)!;
    const replica = nodes.find((n) => n.masterId === master.id)!;
    await cluster.killNode(replica.port, { waitForConvergence: false });
    await cluster.killNode(master.port);
    const it = client.scanIterator({ match: 'gone:*', stallTimeoutMs: 1500 });
    const seen: string[] = [];
    await assert.rejects((async () => {
      for await (const k of it) seen.push(k);
    })(), (e: unknown) => e instanceof TopologyError && /could not cover \d+ slots/.test(e.message));
    const lost = master.slots;
    assert.ok(seen.every((k) => !lost.some(([a, b]) => slotOf(k) >= a && slotOf(k) <= b)), 'keys of live masters were still yielded');
    assert.ok(seen.length > 0);
  });
});
