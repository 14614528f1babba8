/**
 * What Kubernetes does to a StatefulSet pod: it restarts with the same node id
 * and data (its volume) on a NEW IP. Under a 32-way read/write load the
 * callers see no error and lose no acknowledged write when
 *  - a master without a replica comes back on another IP;
 *  - a master is failed over, comes back on another IP as a replica, and is
 *    made master again (clients must now route to the new IP);
 *  - nodes announce hostnames whose addresses change mid-run (resolved
 *    through `dnsLookup` on every connect).
 * Nodes run with append-only files: a pod keeps its data on its volume.
 */
import assert from 'node:assert/strict';
import { ClusterClient, type ClusterClientOptions } from '../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../testcontainers/index.js';
import { Load, describeErrors, lostWrites } from '../helpers/load.js';
import { waitFor } from '../helpers/wait.js';

async function underLoad(options: ClusterClientOptions, fault: (client: ClusterClient) => Promise<void>): Promise<ClusterClient> {
  const client = new ClusterClient({ commandTimeoutMs: 8000, ...options });
  await client.connect();
  try {
    const load = new Load(client, { workers: 32, keysPerWorker: 30, prefix: 'podip' }).start();
    await waitFor(() => load.ops > 3000, { timeoutMs: 20_000, what: 'warm-up load' });
    await fault(client);
    // Keep loading after convergence: every shard must serve again through its current address.
    const after = load.ops;
    await waitFor(() => load.ops > after + 3000, { timeoutMs: 20_000, what: 'load after the move' });
    const result = await load.stop();
    assert.equal(result.errors.length, 0, describeErrors(result.errors));
    assert.deepEqual(result.staleReads, []);
    assert.deepEqual(await lostWrites(client, result.acked), []);
    console.log(`      ${result.ops} operations, 0 errors, ${result.acked.size} acknowledged keys all intact`);
    return client;
  } catch (err) {
    await client.quit();
    throw err;
  }
}

describe('chaos: pod restarts on a new IP (same node id, same data) under a 32-way load', function () {
  this.timeout(120_000);
  let cluster: StartedRedisCluster | undefined;
  let client: ClusterClient | undefined;
  afterEach(async () => {
    await client?.quit();
    client = undefined;
    await cluster?.stop();
    cluster = undefined;
  });

  it('a master without a replica comes back on another IP: 0 errors, 0 lost writes', async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(0).withAppendOnly().start();
    const c = cluster;
    const victim = c.getRootNodes()[0]!.port;
    client = await underLoad(c.getClientOptions(), async (cl) => {
      const move = await c.restartNodeWithNewIp(victim);
      assert.notEqual(move.ip, move.previousIp);
      assert.equal(move.role, 'master');
      await waitFor(() => cl.topology!.nodes().some((n) => n.address === `${move.ip}:${victim}`), {
        timeoutMs: 10_000, what: `the client to route to ${move.ip}:${victim}`,
      });
      console.log(`      :${victim} moved ${move.previousIp} -> ${move.ip}, back ${move.at - move.killedAt} ms after the kill`);
    });
  });

  it('a failed-over master comes back on another IP and is made master again: 0 errors, 0 lost writes', async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).withAppendOnly().start();
    const c = cluster;
    const victim = c.getRootNodes()[0]!.port;
    client = await underLoad(c.getClientOptions(), async (cl) => {
      const kill = await c.killNode(victim);
      assert.ok(kill.promoted, 'its replica took over');
      const move = await c.restartNodeWithNewIp(victim);
      assert.equal(move.role, 'replica', 'it rejoined as a replica of its successor');
      // Give it its slots back: the client must now send them to the new IP.
      await c.failover(victim);
      await waitFor(() => cl.topology!.shards.some((s) => s.master.address === `${move.ip}:${victim}`), {
        timeoutMs: 10_000, what: `the client to route to the new master ${move.ip}:${victim}`,
      });
      console.log(`      :${victim} failed over to :${kill.promoted.port}, back as replica on ${move.ip}, master again`);
    });
  });

  it('hostnames resolve through dnsLookup to addresses that change mid-run: 0 errors, 0 lost writes', async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).withAppendOnly().withHostnames().start();
    const c = cluster;
    const engineLookup = c.getDnsLookup()!;
    const lookups = new Map<string, string[]>();
    const options = {
      ...c.getClientOptions(),
      dnsLookup: (name: string, cb: (err: NodeJS.ErrnoException | null | undefined, address: string) => void) => {
        engineLookup(name, (err, address) => {
          if (!err) lookups.set(name, [...(lookups.get(name) ?? []), address]);
          cb(err, address);
        });
      },
    };
    const [first, second] = (await c.getNodes()).filter((n) => n.role === 'master');
    client = await underLoad(options, async (cl) => {
      assert.ok(cl.topology!.nodes().every((n) => n.host.endsWith('.redis.slotwise.test')), 'the client routes by name');
      for (const node of [first!, second!]) {
        const move = await c.restartNodeWithNewIp(node.port);
        await waitFor(() => lookups.get(node.hostname!)?.at(-1) === move.ip, {
          timeoutMs: 10_000, what: `${node.hostname} to be looked up again and resolve to ${move.ip}`,
        });
      }
    });
    // The map still names nodes, not IPs: nothing had to change but the lookups.
    assert.ok(client.topology!.nodes().every((n) => n.host.endsWith('.redis.slotwise.test')));
    console.log(`      lookups: ${[...lookups].filter(([, a]) => new Set(a).size > 1).map(([n, a]) => `${n} ${[...new Set(a)].join(' -> ')}`).join('; ')}`);
  });
});
