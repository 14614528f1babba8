import assert from 'node:assert/strict';
import { resolveOptions } from '../../../lib/options.js';
import { Topology } from '../../../lib/topology/topology.js';
import type { NodeAnswer } from '../../../lib/topology/consensus.js';
import type { ShardView } from '../../../lib/topology/parse.js';

const view = (port: number): ShardView[] => [{ ranges: [[0, 16383]], master: { id: `n${port}`, host: '127.0.0.1', port, role: 'master', health: 'online' }, replicas: [] }];

describe('Topology refresh (unit)', () => {
  it('is single-flight, and a caller arriving mid-refresh gets a view read after its call', async () => {
    let owner = 7000;
    const started: number[] = [];
    const release: (() => void)[] = [];
    const topology = new Topology([{ host: '127.0.0.1', port: 7000 }], {
      options: resolveOptions({ rootNodes: ['127.0.0.1:7000'], topologySampleSize: 1, topologyRefreshIntervalMs: 0 }),
      map: (host, port) => ({ host, port }),
      query: (address): Promise<NodeAnswer> => {
        const seen = owner;
        started.push(seen);
        return new Promise((resolve) => release.push(() => resolve({ source: address, shards: view(seen), epoch: 1 })));
      },
      onSnapshot: () => undefined,
    });
    const first = topology.refresh('a');
    const shared = topology.refresh('b');
    owner = 7001; // the cluster changes while the first refresh is in flight
    const late = topology.refresh('c');
    assert.equal(started.length, 1, 'one query in flight');
    release.shift()!();
    assert.equal((await first).shardOf(0)!.master.port, 7000);
    await new Promise((r) => setImmediate(r));
    assert.equal(started.length, 2, 'exactly one follow-up refresh');
    release.shift()!();
    assert.equal((await late).shardOf(0)!.master.port, 7001, 'the late caller sees the change');
    assert.equal(await shared, await late, 'callers during a refresh share the follow-up');
    topology.stop();
  });
});
