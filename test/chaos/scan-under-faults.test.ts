/**
 * scanIterator while the cluster changes under it: a live reshard moving keys
 * from the master scanned last to the master scanned first (the direction a
 * naive node-by-node SCAN misses keys in), and a kill -9 of the master being
 * scanned. Every key that existed before the scan must be yielded.
 */
import assert from 'node:assert/strict';
import { ClusterClient } from '../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../testcontainers/index.js';

const KEYS = 20_000;

describe('chaos: scanIterator during reshard and failover', function () {
  this.timeout(180_000);
  let cluster: StartedRedisCluster;
  let client: ClusterClient;

  before(async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).start();
    client = new ClusterClient({ rootNodes: cluster.getRootNodes(), commandTimeoutMs: 3000 });
    await client.connect();
  });
  after(async () => {
    await client?.quit();
    await cluster?.stop();
  });

  async function seed(prefix: string): Promise<string[]> {
    const keys = Array.from({ length: KEYS }, (_, i) => `${prefix}:${i}`);
    for (let i = 0; i < keys.length; i += 2000) await Promise.all(keys.slice(i, i + 2000).map((k) => client.set(k, '1')));
    return keys;
  }

  it('yields every pre-existing key at least once while 600 slots move between masters', async () => {
    const keys = await seed('rs');
    const shards = client.topology!.shards;
    const first = shards[0]!.master.port;
    const last = shards[shards.length - 1]!.master.port;

    // The scan consumer advances in step with the reshard (one more finalized
    // slot per 40 keys consumed), so the migration spans the whole first pass.
    let finalized = 0;
    let done = false;
    const waiters: (() => void)[] = [];
    const wake = () => waiters.splice(0).forEach((w) => w());
    const slotFinalized = (target: number): Promise<void> =>
      finalized >= target || done ? Promise.resolve() : new Promise<void>((r) => waiters.push(r)).then(() => slotFinalized(target));
    const reshard = cluster
      .reshard({ from: last, to: first, slots: 600, slotsPerRound: 16, hooks: { afterSlotFinalized: () => { finalized++; wake(); } } })
      .finally(() => { done = true; wake(); });

    const seen = new Map<string, number>();
    const it = client.scanIterator({ match: 'rs:*', count: 50 });
    let n = 0;
    let target = 0;
    for await (const key of it) {
      seen.set(key, (seen.get(key) ?? 0) + 1);
      if (++n % 40 === 0) await slotFinalized(++target);
    }
    const report = await reshard;
    assert.equal(report.slots.length, 600);
    assert.ok(report.keys > 0, 'keys really moved');
    const missing = keys.filter((k) => !seen.has(k));
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} pre-existing keys were not yielded`);
    assert.ok(it.stats.rounds >= 2, `moved slots were covered again in a later round (rounds: ${it.stats.rounds})`);
  });

  it('yields every pre-existing key at least once when the master being scanned is killed (-9) and fails over', async () => {
    const keys = await seed('fo');
    const victim = client.topology!.shards[0]!.master.port;
    const seen = new Set<string>();
    const it = client.scanIterator({ match: 'fo:*', count: 50 });
    let killed = false;
    for await (const key of it) {
      seen.add(key);
      // A few hundred keys into the first master's scan: kill it, wait for its replica to take over.
      if (!killed && seen.size === 300) {
        killed = true;
        const report = await cluster.killNode(victim);
        assert.ok(report.promoted, 'a replica took over');
      }
    }
    assert.ok(killed);
    const missing = keys.filter((k) => !seen.has(k));
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} pre-existing keys were not yielded`);
    assert.ok(it.stats.abandonedNodeScans >= 1, 'the scan of the killed master was abandoned and redone');
    assert.ok(it.stats.rounds >= 2);
  });
});
