/**
 * ZooKeeper as discovery service and configuration centre, on a real
 * ZooKeeper 3.8 (Debian package, started by testcontainers/zookeeper-server.ts)
 * and real clusters:
 *  - a 3×1 cluster published to ZooKeeper by the engine; a client configured
 *    only with the znode path serves a 32-way load; the cluster is rebuilt on
 *    other ports (data copied), the znode updated, the old nodes stopped: the
 *    client follows with 0 errors;
 *  - ZooKeeper killed for 10 s under load: 0 errors; when it returns the
 *    watches resume (a config change made afterwards is applied);
 *  - a config change (`readFrom: 'replica'`) takes effect in a running
 *    client within 1 s; a bad document is rejected, the old config kept.
 * Skipped (saying why) where ZooKeeper is not installed.
 */
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { once } from 'node:events';
import {
  ClusterClient,
  formatNodesDocument,
  InvalidArgumentError,
  watchConfig,
  zooKeeperDiscovery,
  ZooKeeperStore,
  type CommandDiagnostics,
} from '../../lib/index.js';
import { RedisClusterContainer, ZooKeeperServer, type StartedRedisCluster } from '../../testcontainers/index.js';
import { copyData } from '../helpers/copy-data.js';
import { Load, describeErrors } from '../helpers/load.js';
import { waitFor } from '../helpers/wait.js';
import { requireZooKeeper } from '../helpers/zookeeper.js';

const NODES = '/slotwise/test/orders/nodes';
const CONFIG = '/slotwise/test/orders/config';

/** Addresses that served `n` GETs, via the diagnostics channel. */
async function servedBy(c: ClusterClient, n: number): Promise<string[]> {
  const seen: string[] = [];
  const listener = (m: unknown) => {
    const d = m as CommandDiagnostics;
    if (d.command === 'get' && d.address) seen.push(d.address);
  };
  diagnostics.subscribe('slotwise:command', listener);
  try {
    for (let i = 0; i < n; i++) await c.get(`rf:${i}`);
  } finally {
    diagnostics.unsubscribe('slotwise:command', listener);
  }
  return seen;
}

describe('chaos: ZooKeeper discovery and configuration centre', function () {
  this.timeout(180_000);
  let zk: ZooKeeperServer | undefined;
  let store: ZooKeeperStore | undefined;
  let clusters: StartedRedisCluster[] = [];
  let client: ClusterClient | undefined;

  beforeEach(async function () {
    requireZooKeeper(this);
    zk = await ZooKeeperServer.start();
    store = new ZooKeeperStore(zk.connectString, { sessionTimeoutMs: 20_000 });
  });
  afterEach(async () => {
    await client?.quit();
    client = undefined;
    await store?.close();
    store = undefined;
    await Promise.all(clusters.map((c) => c.stop()));
    clusters = [];
    await zk?.stop();
    zk = undefined;
  });

  async function startPublished(): Promise<StartedRedisCluster> {
    const c = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).withZooKeeper(zk!.connectString, NODES).start();
    clusters.push(c);
    return c;
  }

  it('a client configured only with the znode follows a cluster rebuilt on other ports: 0 errors under a 32-way load', async () => {
    const old = await startPublished();
    client = new ClusterClient({ discovery: zooKeeperDiscovery(store!, NODES), commandTimeoutMs: 15_000 });
    await client.connect();
    assert.deepEqual(new Set(client.topology!.nodes().map((n) => n.port)), new Set(old.getPorts()));
    for (let i = 0; i < 200; i++) await client.set(`before:${i}`, `v${i}`);
    const load = new Load(client, { workers: 32, keysPerWorker: 20, prefix: 'zkmove' }).start();
    await waitFor(() => load.ops > 2000, { timeoutMs: 30_000, what: 'warm-up load' });

    // The rebuild: a new cluster on other ports, the data copied, the znode re-pointed, the old nodes stopped.
    const fresh = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).start();
    clusters.push(fresh);
    const target = new ClusterClient({ rootNodes: fresh.getRootNodes() });
    try {
      await copyData(old, target);
    } finally {
      await target.quit();
    }
    await store!.write(NODES, formatNodesDocument(fresh.getRootNodes()));
    const newPorts = new Set(fresh.getPorts());
    // The watch moves the client before the old nodes go (nothing failed yet).
    await waitFor(() => client!.topology!.nodes().every((n) => newPorts.has(n.port)), { timeoutMs: 10_000, what: 'the client to follow the znode' });
    await old.stop();
    const after = load.ops;
    await waitFor(() => load.ops > after + 2000, { timeoutMs: 30_000, what: 'load on the new cluster' });
    const result = await load.stop();

    assert.equal(result.errors.length, 0, describeErrors(result.errors));
    assert.equal(await client.get('before:9'), 'v9');
    console.log(`      ${result.ops} operations across the move, 0 errors`);
  });

  it('ZooKeeper killed for 10 s under load: 0 errors; it returns and the watches resume', async () => {
    const cluster = await startPublished();
    const errors: Error[] = [];
    client = new ClusterClient({ discovery: zooKeeperDiscovery(store!, NODES), config: watchConfig(store!, CONFIG), commandTimeoutMs: 8000 });
    client.on('error', (e) => errors.push(e));
    await client.connect();
    const load = new Load(client, { workers: 32, keysPerWorker: 20, prefix: 'zkdown' }).start();
    await waitFor(() => load.ops > 2000, { timeoutMs: 30_000, what: 'warm-up load' });

    await zk!.kill();
    const killedAt = Date.now();
    const opsAtKill = load.ops;
    // The outage lasts 10 s (its length is the fault, not a synchronization).
    await waitFor(() => Date.now() - killedAt >= 10_000, { timeoutMs: 15_000, intervalMs: 100, what: '10 s of ZooKeeper outage' });
    assert.ok(load.ops > opsAtKill + 1000, `the load kept going while ZooKeeper was down (${load.ops - opsAtKill} ops)`);
    await zk!.restart();
    // A JVM restart plus the client's reconnect backoff: seconds, more on a loaded machine.
    await waitFor(() => store!.connected, { timeoutMs: 45_000, what: 'the store to reconnect' }).catch(async (err: Error) => {
      await load.stop(); // no 32 workers left running past a failed test
      throw err;
    });

    // Watches resumed: a change written now reaches the running client.
    const applied = once(client, 'config');
    await store!.write(CONFIG, JSON.stringify({ commandTimeoutMs: 7000 }));
    assert.deepEqual((await applied)[0], ['commandTimeoutMs']);
    assert.equal(client.options.commandTimeoutMs, 7000);
    // And the engine can publish again (a failover republishes the nodes).
    const replica = (await cluster.getNodes()).find((n) => n.role === 'replica')!;
    await cluster.failover(replica.port);
    await waitFor(async () => JSON.parse((await store!.read(NODES))!).nodes.length === 6, { timeoutMs: 10_000, what: 'nodes republished' });

    const result = await load.stop();
    assert.equal(result.errors.length, 0, describeErrors(result.errors));
    assert.deepEqual(errors, []);
    console.log(`      ${result.ops} operations, ${load.ops - opsAtKill} during and after the outage, 0 errors`);
  });

  it('a config change (readFrom: replica) takes effect within 1 s; a bad document is rejected and the old config kept', async () => {
    const cluster = await startPublished();
    const writer = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    try {
      for (let i = 0; i < 20; i++) {
        await writer.withConnection(`rf:${i}`, async (conn) => {
          await conn.call('set', `rf:${i}`, 'v');
          await conn.call('wait', '1', '2000');
        });
      }
    } finally {
      await writer.quit();
    }
    await store!.write(CONFIG, JSON.stringify({ readFrom: 'master' }));
    client = new ClusterClient({ discovery: zooKeeperDiscovery(store!, NODES), config: watchConfig(store!, CONFIG) });
    const errors: Error[] = [];
    client.on('error', (e) => errors.push(e));
    await client.connect();
    // Roles are read from the client's current map at each check: on a loaded
    // machine a replica can still be joining when connect() resolves, and a
    // set taken once would miss it.
    const replicas = () => new Set(client!.topology!.nodes().filter((n) => n.role === 'replica').map((n) => n.address));
    const served = await servedBy(client, 20);
    assert.ok(served.every((a) => !replicas().has(a)), 'reads go to masters first');

    const t0 = Date.now();
    const applied = once(client, 'config');
    await store!.write(CONFIG, JSON.stringify({ readFrom: 'replica', commandTimeoutMs: 3000 }));
    // The change reaches the client through the watch (ZooKeeper notifies in milliseconds).
    await waitFor(() => client!.options.readFrom === 'replica', { timeoutMs: 1000, intervalMs: 5, what: 'readFrom: replica to be applied' });
    const appliedMs = Date.now() - t0;
    assert.deepEqual(new Set((await applied)[0]), new Set(['readFrom', 'commandTimeoutMs']));
    // Reads move to the replicas (the first read to each replica opens its connection).
    let lastServed: string[] = [];
    await waitFor(async () => (lastServed = await servedBy(client!, 20)).every((a) => replicas().has(a)), {
      timeoutMs: 5000, intervalMs: 10, what: 'reads served by replicas',
    }).catch((err: Error) => {
      throw new Error(`${err.message}; replicas ${[...replicas()].join(',')}, last reads served by ${lastServed.join(',')}`);
    });
    const servingMs = Date.now() - t0;

    await store!.write(CONFIG, JSON.stringify({ readFrom: 'somewhere', commandTimeoutMs: 100 }));
    await waitFor(() => errors.length > 0, { timeoutMs: 5000, what: 'the bad document to be reported' });
    assert.ok(errors[0] instanceof InvalidArgumentError);
    assert.match(errors[0].message, /readFrom/);
    assert.equal(client.options.readFrom, 'replica', 'the last good config stays');
    assert.equal(client.options.commandTimeoutMs, 3000, 'nothing of a rejected document is applied');

    await store!.write(CONFIG, JSON.stringify({ tls: true }));
    await waitFor(() => errors.length > 1, { timeoutMs: 5000, what: 'the non-live option to be reported' });
    assert.match(errors[1]!.message, /"tls".*cannot change at runtime/);
    assert.ok((await servedBy(client, 20)).every((a) => replicas().has(a)));
    console.log(`      readFrom: 'replica' applied ${appliedMs} ms and every read served by a replica ${servingMs} ms after the znode write`);
  });
});
