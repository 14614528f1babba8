/**
 * Live reshard of ≥ 1500 slots while a read/write load runs: nothing the
 * callers can see may go wrong — no error surfaced, no acknowledged write
 * lost, every read returns the value its worker last wrote.
 */
import assert from 'node:assert/strict';
import { ClusterClient } from '../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../testcontainers/index.js';
import { Load, describeErrors, lostWrites } from '../helpers/load.js';

describe('chaos: live reshard under load', function () {
  this.timeout(180_000);
  let cluster: StartedRedisCluster;

  before(async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(0).start();
  });
  after(async () => {
    await cluster?.stop();
  });

  /** Three keys in four live in the slots being moved (the lowest `from` owns). */
  async function reshardUnderLoad(workers: number, slots: number, from: number, to: number, moving: (slot: number) => boolean) {
    const client = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    const redirects = { moved: 0, ask: 0 };
    client.on('redirect', (r) => redirects[r.kind]++);
    await client.connect();
    const load = new Load(client, {
      workers, keysPerWorker: workers > 64 ? 12 : 40, prefix: `rl${workers}`, valueBytes: 100,
      keyFilter: (slot, i) => i % 4 === 3 || moving(slot),
    });
    // Keys in every slot being moved, so MIGRATE has real work while the load runs.
    await Promise.all(load.keys().map((k) => client.set(k, 'seed')));
    load.start();
    try {
      const report = await cluster.reshard({ from, to, slots, slotsPerRound: workers > 64 ? 64 : 16, batchSize: 50 });
      const result = await load.stop();
      const lost = await lostWrites(client, result.acked);
      return { report, result, lost, redirects };
    } finally {
      await load.stop();
      await client.quit();
    }
  }

  it('moves 1500 slots under a 32-way read/write load with 0 errors, 0 lost writes, 0 stale reads', async () => {
    const [a, b] = cluster.getRootNodes();
    const { report, result, lost, redirects } = await reshardUnderLoad(32, 1500, a!.port, b!.port, (s) => s < 1500);
    assert.equal(report.slots.length, 1500);
    assert.ok(report.keys > 0, 'keys were migrated while the load ran');
    assert.ok(result.ops > 1000, `the load ran (${result.ops} ops)`);
    assert.equal(result.errors.length, 0, describeErrors(result.errors));
    assert.deepEqual(result.staleReads, []);
    assert.deepEqual(lost, []);
    assert.ok(redirects.moved + redirects.ask > 0, 'the client really was redirected');
  });

  it('moves 1500 slots back under 256 in flight (auto-pipelined) with 0 errors and 0 lost writes', async () => {
    const [a, b] = cluster.getRootNodes();
    const { report, result, lost } = await reshardUnderLoad(256, 1500, b!.port, a!.port, (s) => s < 1500);
    assert.equal(report.slots.length, 1500);
    assert.equal(result.errors.length, 0, describeErrors(result.errors));
    assert.deepEqual(result.staleReads, []);
    assert.deepEqual(lost, []);
  });
});
