/**
 * The `dnsLookup` option: names (root nodes, announced hostnames) are resolved
 * through it on every connect, never through the system resolver; IPs are
 * never looked up; a failed lookup is a connection failure naming the name.
 */
import assert from 'node:assert/strict';
import { ClusterClient, TopologyError } from '../../../lib/index.js';
import { sharedCluster } from '../../helpers/cluster.js';

describe('dnsLookup option (integration)', function () {
  this.timeout(60_000);

  it('root nodes given by name are resolved through dnsLookup; discovered IPs are not looked up', async () => {
    const cluster = await sharedCluster();
    const seed = cluster.getRootNodes()[0]!;
    const asked: string[] = [];
    const client = new ClusterClient({
      rootNodes: [`seed.redis.slotwise.test:${seed.port}`],
      dnsLookup: (name, cb) => {
        asked.push(name);
        cb(null, seed.host, 4);
      },
    });
    try {
      await client.connect();
      await client.set('dns:a', '1');
      assert.equal(await client.get('dns:a'), '1');
      assert.deepEqual([...new Set(asked)], ['seed.redis.slotwise.test']);
      // The map holds the IPs the cluster announces: those connect without a lookup.
      assert.ok(client.topology!.nodes().every((n) => n.host === '127.0.0.1'));
    } finally {
      await client.quit();
    }
  });

  it('a name dnsLookup cannot resolve fails the connect with TopologyError naming it', async () => {
    const cluster = await sharedCluster();
    const port = cluster.getRootNodes()[0]!.port;
    const bad = [
      (_: string, cb: (e: NodeJS.ErrnoException | null, a: string) => void) => cb(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }), ''),
      (_: string, cb: (e: NodeJS.ErrnoException | null, a: string) => void) => cb(null, 'not-an-ip'),
    ];
    for (const dnsLookup of bad) {
      const client = new ClusterClient({ rootNodes: [`nowhere.slotwise.test:${port}`], dnsLookup, topologyQueryTimeoutMs: 500 });
      await assert.rejects(client.connect(), (e: unknown) => {
        assert.ok(e instanceof TopologyError, String(e));
        assert.match(Object.values(e.nodeErrors).join(' '), /dnsLookup\("nowhere\.slotwise\.test"\) (failed: getaddrinfo ENOTFOUND|returned "not-an-ip", not an IP address)/);
        return true;
      });
      await client.disconnect();
    }
  });
});
