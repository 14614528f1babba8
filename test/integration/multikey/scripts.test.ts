/** Scripts and functions on every node of the shared cluster; keys of one slot only. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ClusterClient, CrossSlotError, InvalidArgumentError, slotOf } from '../../../lib/index.js';
import { sharedCluster } from '../../helpers/cluster.js';

describe('scripts and functions across the cluster (integration)', function () {
  this.timeout(60_000);
  let client: ClusterClient;
  const run = randomUUID().slice(0, 8).replace(/-/g, '');
  const lib = `slotwise_test_${run}`;

  before(async () => {
    const cluster = await sharedCluster();
    client = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await client.connect();
  });
  after(async () => {
    await client?.function('DELETE', lib).catch(() => undefined);
    await client?.quit();
  });

  const footprint = () => client.nodes('all').map((n) => n.stats.commands).join(',');

  it('rejects a script whose keys span two slots with CrossSlotError before sending anything', async () => {
    const script = client.defineScript({ name: 'pair', lua: "redis.call('SET', KEYS[1], ARGV[1]); redis.call('SET', KEYS[2], ARGV[1]); return 1" });
    const [a, b] = [`sa:${run}`, `sb:${run}`];
    assert.notEqual(slotOf(a), slotOf(b));
    const before = footprint();
    await assert.rejects(script.run([a, b], ['x']), (e: unknown) => e instanceof CrossSlotError && e.slots.length === 2);
    assert.equal(footprint(), before, 'no byte was sent');
    assert.equal(await client.exists(a, b), 0);
    assert.equal(await script.run([`{s:${run}}a`, `{s:${run}}b`], ['x']), 1, 'same slot via a hash tag works');
    await client.del(`{s:${run}}a`, `{s:${run}}b`);
  });

  it('scriptLoad loads on every node (masters and replicas) and SCRIPT EXISTS is ANDed over the cluster', async () => {
    const lua = `return '${run}'`;
    const sha = await client.scriptLoad(lua);
    assert.match(sha, /^[0-9a-f]{40}$/);
    const perNode = await client.forEachNode('all', (n) => n.call('script', 'exists', sha));
    assert.equal(perNode.length, 6);
    assert.deepEqual(perNode, Array(6).fill([1]));
    assert.deepEqual(await client.script('EXISTS', sha, '0'.repeat(40)), [1, 0]);
    // EVALSHA works on whichever master a key lands on.
    for (let i = 0; i < 30; i++) assert.equal(await client.evalsha(sha, 1, `ev:${run}:${i}`), run);
    await assert.rejects(client.scriptLoad(''), InvalidArgumentError);
  });

  it('functionLoad loads a library on every master; FCALL routes by its keys; FUNCTION DELETE removes it everywhere', async () => {
    const code = `#!lua name=${lib}\nredis.register_function('${lib}_incr', function(keys, args) return redis.call('INCRBY', keys[1], args[1]) end)`;
    assert.equal(await client.functionLoad(code), lib);
    assert.equal(await client.functionLoad(code, { replace: true }), lib, 'REPLACE reloads');
    const libs = await client.forEachNode('master', (n) => n.call('function', 'list', 'libraryname', lib));
    assert.ok(libs.every((l) => (l as unknown[]).length === 1), 'every master has the library');
    const keys = Array.from({ length: 30 }, (_, i) => `fc:${run}:${i}`);
    assert.equal(new Set(keys.map((k) => client.topology!.shardOf(slotOf(k))!.master.address)).size, 3);
    for (const k of keys) assert.equal(await client.fcall(`${lib}_incr`, 1, k, 2), 2);
    await assert.rejects(client.fcall(`${lib}_incr`, 2, keys[0]!, keys[1]!, 1), (e: unknown) => e instanceof CrossSlotError);
    await assert.rejects(client.functionLoad('not a library'), InvalidArgumentError);
    assert.equal(await client.function('DELETE', lib), 'OK');
    const after = await client.forEachNode('master', (n) => n.call('function', 'list', 'libraryname', lib));
    assert.ok(after.every((l) => (l as unknown[]).length === 0), 'deleted on every master');
    await client.del(keys);
  });
});
