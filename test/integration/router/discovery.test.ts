/**
 * Discovery providers on the shared real cluster: a client with only a DNS
 * SRV name (the Kubernetes headless-service way) bootstraps from its targets.
 * The SRV answer and the A records are injected (`resolveSrv`, `dnsLookup`):
 * tests never ask a real DNS server.
 */
import assert from 'node:assert/strict';
import { ClusterClient, dnsSrvDiscovery, type DnsLookup } from '../../../lib/index.js';
import { sharedCluster } from '../../helpers/cluster.js';

describe('discovery providers (integration)', function () {
  this.timeout(30_000);

  it('DNS SRV: a client given only the service name bootstraps from its targets', async () => {
    const cluster = await sharedCluster();
    const ports = cluster.getRootNodes().map((n) => n.port);
    const names = new Map(ports.map((p, i) => [`redis-${i}.redis.default.svc.cluster.local`, p]));
    const asked: string[] = [];
    const dnsLookup: DnsLookup = (hostname, cb) => {
      asked.push(hostname);
      if (names.has(hostname)) cb(null, '127.0.0.1', 4);
      else cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 4);
    };
    const client = new ClusterClient({
      discovery: dnsSrvDiscovery({
        name: '_redis._tcp.redis.default.svc.cluster.local',
        resolveSrv: async () => [...names].map(([name, port]) => ({ name, port, priority: 0, weight: 1 })),
      }),
      dnsLookup,
    });
    try {
      await client.connect();
      await client.set('srv:k', 'v');
      assert.equal(await client.get('srv:k'), 'v');
      assert.ok(asked.some((h) => names.has(h)), 'the SRV targets were connected to by name');
      assert.deepEqual(new Set(client.topology!.shards.map((s) => s.master.port)), new Set(ports));
    } finally {
      await client.quit();
    }
  });
});
