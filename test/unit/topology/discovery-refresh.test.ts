/**
 * Topology and a discovery provider, with scripted node answers (pure logic:
 * which nodes a refresh asks, when the provider is consulted). The real
 * cluster moves are in test/chaos/discovery-move.test.ts and zookeeper.test.ts.
 */
import assert from 'node:assert/strict';
import { TopologyError } from '../../../lib/errors.js';
import { resolveOptions } from '../../../lib/options.js';
import type { HostPort } from '../../../lib/core/addresses.js';
import { Topology } from '../../../lib/topology/topology.js';
import type { NodeAnswer } from '../../../lib/topology/consensus.js';
import type { ShardView } from '../../../lib/topology/parse.js';

const view = (port: number): ShardView[] => [{ ranges: [[0, 16383]], master: { id: `n${port}`, host: '127.0.0.1', port, role: 'master', health: 'online' }, replicas: [] }];
const at = (port: number): HostPort => ({ host: '127.0.0.1', port });

/** Nodes that answer (port → the port of the master they report); every query is logged. */
function harness(seeds: HostPort[], discover?: () => Promise<readonly HostPort[]>) {
  const answering = new Map<number, number>();
  const asked: number[] = [];
  const topology = new Topology(seeds, {
    options: resolveOptions({ rootNodes: ['127.0.0.1:1'], topologySampleSize: 1, topologyRefreshIntervalMs: 0 }),
    map: (host, port) => ({ host, port }),
    query: async (address, _host, port): Promise<NodeAnswer> => {
      asked.push(port);
      const master = answering.get(port);
      if (master === undefined) throw new Error(`connect ECONNREFUSED ${address}`);
      return { source: address, shards: view(master), epoch: 1 };
    },
    onSnapshot: () => undefined,
    ...(discover ? { discover } : {}),
  });
  return { topology, answering, asked };
}

describe('Topology with a discovery provider (unit)', () => {
  it('bootstraps from the provider when it has no seeds', async () => {
    let calls = 0;
    const h = harness([], async () => (calls++, [at(7000)]));
    h.answering.set(7000, 7000);
    assert.equal((await h.topology.refresh('connect')).shardOf(0)!.master.port, 7000);
    assert.equal(calls, 1);
    h.topology.stop();
  });

  it('asks the provider again only when no known node answers, and moves to what it returns', async () => {
    let calls = 0;
    let published = [at(7000)];
    const h = harness([at(7000)], async () => (calls++, published));
    h.answering.set(7000, 7000);
    await h.topology.refresh('connect');
    await h.topology.refresh('periodic');
    assert.equal(calls, 0, 'a known node answered: the provider is not asked');
    // The whole cluster moves to 8000.
    h.answering.clear();
    h.answering.set(8000, 8000);
    published = [at(8000)];
    assert.equal((await h.topology.refresh('unreachable')).shardOf(0)!.master.port, 8000);
    assert.equal(calls, 1);
    h.topology.stop();
  });

  it('a provider failure is one more entry of the TopologyError', async () => {
    const h = harness([at(7000)], async () => Promise.reject(new Error('ZooKeeper not connected')));
    await assert.rejects(h.topology.refresh('connect'), (err: unknown) => {
      assert.ok(err instanceof TopologyError);
      assert.match(String(err.nodeErrors['discovery']), /ZooKeeper not connected/);
      assert.match(String(err.nodeErrors['127.0.0.1:7000']), /ECONNREFUSED/);
      return true;
    });
    h.topology.stop();
  });

  it('pushed seeds that share no node with the map are asked first at once, even while the old nodes answer', async () => {
    const h = harness([at(7000)]);
    h.answering.set(7000, 7000);
    h.answering.set(8000, 8000);
    await h.topology.refresh('connect');
    const changed = h.topology.nextChange();
    h.asked.length = 0;
    h.topology.setSeeds([at(8000)]);
    await changed;
    assert.equal(h.asked[0], 8000, 'the new seed is asked first');
    assert.equal(h.topology.current!.shardOf(0)!.master.port, 8000);
    // Seeds overlapping the map change nothing by themselves.
    h.asked.length = 0;
    h.topology.setSeeds([at(8000), at(9000)]);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(h.asked, []);
    h.topology.stop();
  });
});
