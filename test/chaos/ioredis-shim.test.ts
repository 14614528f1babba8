/**
 * The same services' load, written against ioredis' Cluster API and run
 * through slotwise/ioredis: a live reshard and a master kill -9 surface no
 * error, lose no acknowledged write and serve no stale read — what the
 * ClusterClient chaos suites show, through the shim (ioredis' own Cluster
 * surfaces errors here: docs/11-benchmarks.md).
 */
import assert from 'node:assert/strict';
import { Cluster } from '../../lib/ioredis/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../testcontainers/index.js';
import { Load, describeErrors, lostWrites } from '../helpers/load.js';
import { waitFor } from '../helpers/wait.js';

describe('chaos: slotwise/ioredis under reshard and kill -9', function () {
  this.timeout(180_000);
  let engine: StartedRedisCluster;
  let cluster: Cluster | undefined;

  before(async () => {
    engine = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).withNodeTimeoutMs(2000).start();
  });
  afterEach(async () => {
    await cluster?.quit();
    cluster = undefined;
  });
  after(async () => {
    await engine?.stop();
  });

  /** An ioredis-style client, configured as ioredis users typically do. */
  async function open(): Promise<Cluster> {
    const c = new Cluster(engine.getRootNodes().map((n) => ({ host: n.host, port: n.port })), {
      enableAutoPipelining: true,
      redisOptions: { commandTimeout: 8000 },
    });
    c.on('error', () => undefined);
    if (c.status !== 'ready') await new Promise((resolve) => c.once('ready', resolve));
    return c;
  }

  it('moves 500 slots under a 32-way read/write load: 0 errors, 0 lost writes, 0 stale reads', async () => {
    cluster = await open();
    const [a, b] = engine.getRootNodes();
    const load = new Load(cluster, { workers: 32, keysPerWorker: 20, prefix: 'shim-rs', valueBytes: 100, keyFilter: (slot, i) => i % 4 === 3 || slot < 500 });
    await Promise.all(load.keys().map((k) => cluster!.set(k, 'seed')));
    load.start();
    const report = await engine.reshard({ from: a!.port, to: b!.port, slots: 500, slotsPerRound: 16, batchSize: 50 }).catch(async (err: unknown) => {
      await load.stop();
      throw err;
    });
    const result = await load.stop();
    assert.equal(report.slots.length, 500);
    assert.ok(result.ops > 500, `the load ran (${result.ops} ops)`);
    assert.equal(result.errors.length, 0, describeErrors(result.errors));
    assert.deepEqual(result.staleReads, []);
    assert.deepEqual(await lostWrites(cluster, result.acked), []);
  });

  it('kill -9 of a master under a 32-way load: 0 errors, 0 lost writes, writes resume on the promoted replica', async () => {
    cluster = await open();
    const victim = engine.getRootNodes()[2]!.port;
    const events: string[] = [];
    cluster.on('node error', (_err: Error, address: string) => events.push(`node error ${address}`));
    cluster.on('-node', (n: { options: { port: number } }) => events.push(`-node ${n.options.port}`));
    cluster.on('refresh', () => events.push('refresh'));
    const load = new Load(cluster, { workers: 32, keysPerWorker: 20, prefix: 'shim-kill' }).start();
    try {
      await waitFor(() => load.ops > 2000, { timeoutMs: 20_000, what: 'warm-up load' });
      const report = await engine.killNode(victim);
      assert.ok(report.promoted, 'a replica was promoted');
      const promoted = report.promoted.port;
      await waitFor(() => cluster!.nodes('master').some((n) => n.options.port === promoted), { timeoutMs: 20_000, what: 'the shim routing to the promoted replica' });
      const after = load.ops;
      await waitFor(() => load.ops > after + 2000, { timeoutMs: 20_000, what: 'load after the failover' });
    } catch (err) {
      await load.stop();
      throw err;
    }
    const result = await load.stop();
    assert.equal(result.errors.length, 0, describeErrors(result.errors));
    assert.deepEqual(result.staleReads, []);
    assert.deepEqual(await lostWrites(cluster, result.acked), []);
    console.log(`      kill -9 of :${victim}: ${result.ops} ops through slotwise/ioredis, ${result.errors.length} errors; events: ${[...new Set(events)].join(', ')}`);
    assert.ok(events.includes('refresh'), 'the map change was announced (refresh)');
  });
});
