/** Cluster-wide SCAN and per-node fan-out on the shared cluster (quiet: no faults). */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ClusterClient, InvalidArgumentError, slotOf } from '../../../lib/index.js';
import { sharedCluster } from '../../helpers/cluster.js';

describe('scanIterator and forEachNode (integration)', function () {
  this.timeout(120_000);
  let client: ClusterClient;
  const prefix = `scan:${randomUUID().slice(0, 8)}`;
  const KEYS = 100_000;

  before(async () => {
    const cluster = await sharedCluster();
    client = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await client.connect();
    for (let i = 0; i < KEYS; i += 2000) {
      await Promise.all(Array.from({ length: Math.min(2000, KEYS - i) }, (_, j) => client.set(`${prefix}:${i + j}`, 'v')));
    }
  });
  after(async () => {
    if (!client) return;
    for (let i = 0; i < KEYS; i += 2000) {
      await Promise.all(Array.from({ length: Math.min(2000, KEYS - i) }, (_, j) => client.unlink(`${prefix}:${i + j}`)));
    }
    await client.quit();
  });

  it('yields each of 100,000 keys spread over 3 masters exactly once on a quiet cluster', async () => {
    const masters = new Set<string>();
    for (let i = 0; i < 300; i++) masters.add(client.topology!.shardOf(slotOf(`${prefix}:${i}`))!.master.address);
    assert.equal(masters.size, 3, 'the keys live on every master');

    const seen = new Map<string, number>();
    const it = client.scanIterator({ match: `${prefix}:*`, count: 1000 });
    for await (const key of it) seen.set(key, (seen.get(key) ?? 0) + 1);
    const repeated = [...seen].filter(([, n]) => n > 1);
    assert.equal(seen.size, KEYS, `every key was yielded (${seen.size} distinct)`);
    assert.deepEqual(repeated.slice(0, 5), [], 'no key was yielded twice');
    assert.equal(it.stats.rounds, 1, 'one pass over the masters on a quiet cluster');
    assert.equal(it.stats.nodeScans, 3);
  });

  it('filters by TYPE and stops early without leaving anything behind', async () => {
    const h = `${prefix}:hash`;
    await client.hset(h, 'f', 'v');
    const types: string[] = [];
    for await (const key of client.scanIterator({ match: `${prefix}:*`, type: 'hash' })) types.push(key);
    assert.deepEqual(types, [h]);
    let n = 0;
    for await (const key of client.scanIterator({ match: `${prefix}:*` })) {
      assert.ok(key.startsWith(prefix));
      if (++n === 10) break;
    }
    assert.equal(n, 10);
    await client.del(h);
  });

  it('rejects bad scan options before sending anything', () => {
    assert.throws(() => client.scanIterator({ count: 0 }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'count');
    assert.throws(() => client.scanIterator({ match: '' }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'match');
    assert.throws(() => client.scanIterator({ type: 'a b' }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'type');
    assert.throws(() => client.scanIterator({ matc: 'x' } as never), (e: unknown) => e instanceof InvalidArgumentError && /known: match/.test(e.message));
  });

  it('forEachNode runs a function on every node of a role', async () => {
    const roles = await client.forEachNode('master', async (node) => [node.address, await node.call('role')] as const);
    assert.equal(roles.length, 3);
    for (const [, role] of roles) assert.equal((role as unknown[])[0], 'master');
    const replicas = await client.forEachNode('replica', (node) => node.role);
    assert.deepEqual(replicas, ['replica', 'replica', 'replica']);
    assert.equal((await client.forEachNode('all', (n) => n.address)).length, 6);
    await assert.rejects(client.forEachNode('primary' as never, () => 1), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'role');
  });
});
