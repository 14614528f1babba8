/**
 * A node handle whose role changes while its connection is still opening
 * (a replica first seen as a master, e.g. from a discovery document) must
 * still end up READONLY: otherwise every read sent to it is answered with
 * MOVED to its master. Seen once as a flaky `readFrom: 'replica'` check in
 * the ZooKeeper chaos suite.
 */
import assert from 'node:assert/strict';
import { Command } from 'ioredis';
import { slotOf } from '../../../lib/index.js';
import { NodeHandle, type NodeEvents } from '../../../lib/node/node-handle.js';
import { resolveOptions } from '../../../lib/options.js';
import { sharedCluster } from '../../helpers/cluster.js';

const quiet: NodeEvents = { onBreaker: () => undefined, onConnectionFailure: () => undefined, onConnected: () => undefined };

describe('node handle: a role change during connect', () => {
  it('a replica first taken for a master gets READONLY once its connection opens, and serves reads', async () => {
    const cluster = await sharedCluster();
    const nodes = await cluster.getNodes();
    const replica = nodes.find((n) => n.role === 'replica')!;
    const master = nodes.find((n) => n.id === replica.masterId)!;
    const [from] = master.slots[0]!;
    let key = '';
    for (let i = 0; ; i++) if (slotOf((key = `role-race:${i}`)) >= from && slotOf(key) <= master.slots[0]![1]) break;
    const roots = cluster.getRootNodes();
    const handle = new NodeHandle('127.0.0.1', replica.port, `127.0.0.1:${replica.port}`, 'master', resolveOptions({ rootNodes: roots }), quiet);
    try {
      const ping = handle.submit(new Command('ping', [], { replyEncoding: 'utf8' }));
      handle.role = 'replica'; // the topology's answer arrives while the connection is opening
      assert.equal(await ping, 'PONG');
      const got = await handle.submit(new Command('get', [key], { replyEncoding: 'utf8' }));
      assert.equal(got, null, 'answered by the replica itself, not MOVED');
    } finally {
      await handle.close(false);
    }
  });
});
