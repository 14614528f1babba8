/**
 * Mutual TLS on a cluster that announces host names (`withHostnames()`, like
 * pods behind a headless Service): the client resolves each name with
 * `dnsLookup`, connects to the IP and still checks the certificate against the
 * NAME (servername). A node restarted on a new loopback address keeps working:
 * the engine's certificate covers every address a node may move to.
 */
import assert from 'node:assert/strict';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { ClusterClient, TlsError } from '../../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../../testcontainers/index.js';
import { waitFor } from '../../helpers/wait.js';

describe('security: mutual TLS on a cluster announcing host names', function () {
  this.timeout(120_000);
  let cluster: StartedRedisCluster;
  const clients: ClusterClient[] = [];

  before(async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(0).withAppendOnly().withHostnames().withTls({ mutual: true }).start();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
    await cluster?.stop();
  });

  function client(options: Partial<ConstructorParameters<typeof ClusterClient>[0]> = {}): ClusterClient {
    const c = new ClusterClient({ ...cluster.getClientOptions(), commandTimeoutMs: 8000, connectTimeoutMs: 2000, ...options });
    clients.push(c);
    return c;
  }

  it('checks each certificate against the announced name, on every master, also after a node moved to a new IP', async () => {
    const seen = new Set<string>();
    const tls = cluster.getClientOptions().tls!;
    const c = client({
      tls: {
        ...tls,
        checkServerIdentity: (host: string, cert: PeerCertificate) => {
          seen.add(host);
          return checkServerIdentity(host, cert);
        },
      },
    });
    await c.connect();
    const names = c.topology!.nodes().map((n) => n.host);
    assert.ok(names.every((h) => /^node-\d+\.redis\.slotwise\.test$/.test(h)), names.join(', '));
    for (const m of c.nodes('master')) assert.equal(await m.call('PING'), 'PONG');
    // Seeds given by IP are checked against that IP; every node found by discovery against its name.
    const seeds = cluster.getRootNodes().map((n) => n.host);
    assert.deepEqual([...seen].filter((h) => !seeds.includes(h)).sort(), [...names].sort(), 'each discovered node was verified against its name, not its IP');

    const keys = Array.from({ length: 60 }, (_, i) => `tlsname:${i}`);
    await Promise.all(keys.map((k) => c.set(k, k)));
    const victim = cluster.getRootNodes()[0]!.port;
    const move = await cluster.restartNodeWithNewIp(victim);
    assert.notEqual(move.ip, move.previousIp);
    await waitFor(async () => (await c.nodes('master')[0]!.call('PING')) === 'PONG' && (await c.mget(keys)).every((v, i) => v === keys[i]), {
      timeoutMs: 20_000, what: `every key readable after node ${victim} moved to ${move.ip}`,
    });
  });

  it('a servername the certificate does not cover is refused with TlsError (ERR_TLS_CERT_ALTNAME_INVALID)', async () => {
    const c = client({ tls: { ...cluster.getClientOptions().tls!, servername: 'node-0.elsewhere.example' } });
    await assert.rejects(c.connect(), (e: unknown) => e instanceof TlsError && e.reason === 'ERR_TLS_CERT_ALTNAME_INVALID' && /node-0\.elsewhere\.example/.test(e.message));
  });
});
