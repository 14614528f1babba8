/**
 * The whole cluster moves: it is rebuilt on new ports (data copied, old nodes
 * stopped) and only the discovery provider knows. A provider without a watch
 * (like a DNS name re-pointed) is asked again when every node the client
 * knows is unreachable; under a 32-way load no command within its deadline
 * fails. Runs on real clusters; needs no ZooKeeper.
 */
import assert from 'node:assert/strict';
import { ClusterClient, type DiscoveryProvider, type HostPort } from '../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../testcontainers/index.js';
import { copyData } from '../helpers/copy-data.js';
import { Load, describeErrors } from '../helpers/load.js';
import { waitFor } from '../helpers/wait.js';

/** A provider backed by a variable: what an operator re-points. Counts its calls. */
function variableProvider(initial: readonly HostPort[]): DiscoveryProvider & { nodes: readonly HostPort[]; calls: number } {
  const p = {
    name: 'test-variable',
    nodes: initial,
    calls: 0,
    resolve: async () => {
      p.calls++;
      return p.nodes;
    },
  };
  return p;
}

describe('chaos: the whole cluster moves; the client re-bootstraps from discovery', function () {
  this.timeout(180_000);
  let old: StartedRedisCluster | undefined;
  let fresh: StartedRedisCluster | undefined;
  let client: ClusterClient | undefined;
  afterEach(async () => {
    await client?.quit();
    client = undefined;
    await Promise.all([old?.stop(), fresh?.stop()]);
    old = fresh = undefined;
  });

  it('rebuilt on new ports, old nodes stopped: 0 errors for a 32-way load, data copied is served', async () => {
    old = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).start();
    const provider = variableProvider(old.getRootNodes());
    client = new ClusterClient({ discovery: provider, commandTimeoutMs: 15_000 });
    await client.connect();
    assert.equal(provider.calls, 1, 'bootstrap asks the provider once');
    for (let i = 0; i < 200; i++) await client.set(`before:${i}`, `v${i}`);

    const load = new Load(client, { workers: 32, keysPerWorker: 20, prefix: 'move' }).start();
    await waitFor(() => load.ops > 2000, { timeoutMs: 30_000, what: 'warm-up load' });

    fresh = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).start();
    const target = new ClusterClient({ rootNodes: fresh.getRootNodes() });
    try {
      assert.ok((await copyData(old, target)) >= 200);
    } finally {
      await target.quit();
    }
    provider.nodes = fresh.getRootNodes();
    const oldPorts = new Set(old.getPorts());
    await old.stop();
    old = undefined;

    const newPorts = new Set(fresh.getPorts());
    await waitFor(() => client!.topology!.nodes().every((n) => newPorts.has(n.port)), { timeoutMs: 30_000, what: 'the client to map only the new nodes' });
    const after = load.ops;
    await waitFor(() => load.ops > after + 2000, { timeoutMs: 30_000, what: 'load on the new cluster' });
    const result = await load.stop();

    assert.equal(result.errors.length, 0, describeErrors(result.errors));
    assert.ok(provider.calls >= 2, 'the provider was asked again when every known node was gone');
    assert.ok(client.topology!.nodes().every((n) => !oldPorts.has(n.port)));
    assert.equal(await client.get('before:7'), 'v7', 'data copied to the new cluster is served');
    console.log(`      ${result.ops} operations across the move, 0 errors; provider asked ${provider.calls}×`);
  });
});
