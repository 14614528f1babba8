/**
 * A mutual-TLS 3×1 cluster from the engine: every part of slotwise works on
 * it, a live reshard and a master kill -9 under a 32-way load surface no
 * error and lose no acknowledged write, and refused handshakes (no client
 * certificate, a foreign CA, a wrong name) fail fast with a typed TlsError.
 */
import assert from 'node:assert/strict';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { ClusterClient, Mutex, SessionStore, slotOf as slotOfKey, TlsError, WorkQueue } from '../../../lib/index.js';
import { generateTlsMaterial, RedisClusterContainer, type StartedRedisCluster, type TlsMaterial } from '../../../testcontainers/index.js';
import { describeErrors, Load, lostWrites } from '../../helpers/load.js';
import { waitFor } from '../../helpers/wait.js';

describe('security: mutual-TLS cluster from the engine', function () {
  this.timeout(180_000);
  let cluster: StartedRedisCluster;
  let client: ClusterClient;
  let foreign: TlsMaterial;
  const others: ClusterClient[] = [];

  before(async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).withTls({ mutual: true }).start();
    foreign = await generateTlsMaterial({ caName: 'some other CA' });
    client = new ClusterClient({ rootNodes: cluster.getRootNodes(), tls: cluster.getTlsOptions(), commandTimeoutMs: 8000 });
    await client.connect();
  });
  after(async () => {
    await Promise.all(others.map((c) => c.quit().catch(() => c.disconnect())));
    await client?.quit();
    await cluster?.stop();
  });

  function extra(options: Partial<ConstructorParameters<typeof ClusterClient>[0]>): ClusterClient {
    const c = new ClusterClient({ rootNodes: cluster.getRootNodes(), connectTimeoutMs: 1500, ...options });
    others.push(c);
    return c;
  }

  it('nodes are TLS-only: the engine reports rediss:// URLs and a plaintext client gets no answer', async () => {
    assert.ok(cluster.mutualTls);
    assert.match(cluster.getConnectionUrls()[0]!, /^rediss:\/\/127\.0\.0\.1:\d+$/);
    const files = cluster.getTlsFiles()!;
    assert.match(files.clientCertFile, /slotwise-tls-.*client\.crt$/);
    const plain = extra({ topologyQueryTimeoutMs: 500 });
    await assert.rejects(plain.connect());
  });

  it('reads/writes on every master, replica reads, pub/sub, a lock, a queue job and a session', async () => {
    const snap = client.topology!;
    assert.equal(snap.shards.length, 3);
    for (const shard of snap.shards) {
      const [from] = snap.ranges(shard.index)[0]!;
      const key = keyInSlot(from);
      await client.set(key, `v-${shard.index}`);
      assert.equal(await client.get(key), `v-${shard.index}`);
    }

    const reader = extra({ tls: cluster.getTlsOptions(), readFrom: 'replica' });
    await reader.connect();
    await client.set('tls:replica-read', 'r1');
    await waitFor(async () => (await reader.get('tls:replica-read')) === 'r1', { what: 'the replica read' });
    const served = reader.nodes('replica').filter((n) => n.stats.commands > 0);
    assert.ok(served.length > 0, 'a replica served the read');

    const got: string[] = [];
    const sub = await client.subscribe('tls:chan', (m) => void got.push(m));
    const sgot: string[] = [];
    const ssub = await client.ssubscribe('tls:{s}chan', (m) => void sgot.push(m));
    await client.publish('tls:chan', 'hello');
    await client.spublish('tls:{s}chan', 'sharded');
    await waitFor(() => got.includes('hello') && sgot.includes('sharded'), { what: 'pub/sub messages over TLS' });
    await sub.unsubscribe();
    await ssub.unsubscribe();

    const lock = new Mutex(client, 'tls-lock', { leaseMs: 5000 });
    const held = await lock.acquire();
    await held.release();

    const q = new WorkQueue<{ n: number }>(client, `tls-q-${Date.now()}`, { partitions: 3 });
    const done: number[] = [];
    await q.process((job) => void done.push(job.data.n));
    await q.add({ n: 42 });
    await waitFor(() => done.includes(42), { what: 'the queue job over TLS' });
    await q.close();

    const store = new SessionStore(client, { prefix: 'tls-sess', ttlMs: 60_000 });
    const id = await store.create({ user: 'u1' });
    assert.deepEqual(await store.get(id), { user: 'u1' });
    await store.destroy(id);
  });

  it('a live reshard and a master kill -9 under a 32-way load: 0 errors, 0 lost acknowledged writes', async () => {
    const load = new Load(client, { workers: 32, keysPerWorker: 20, prefix: 'tls-load' }).start();
    await waitFor(() => load.ops > 2000, { timeoutMs: 30_000, what: 'warm-up load' });
    const masters = (await cluster.getNodes()).filter((n) => n.role === 'master');
    const report = await cluster.reshard({ from: masters[0]!.port, to: masters[1]!.port, slots: 300 });
    assert.equal(report.slots.length, 300);
    const afterReshard = load.ops;
    await waitFor(() => load.ops > afterReshard + 1000, { timeoutMs: 30_000, what: 'load after the reshard' });
    const kill = await cluster.killNode(masters[2]!.port);
    assert.ok(kill.promoted, 'a replica took over');
    const afterKill = load.ops;
    await waitFor(() => load.ops > afterKill + 2000, { timeoutMs: 30_000, what: 'load after the failover' });
    const result = await load.stop();
    assert.equal(result.errors.length, 0, describeErrors(result.errors));
    assert.deepEqual(result.staleReads, []);
    assert.deepEqual(await lostWrites(client, result.acked), []);
  });

  /** The error connect() rejects with, and how long it took. */
  async function refused(options: Partial<ConstructorParameters<typeof ClusterClient>[0]>): Promise<{ err: TlsError; ms: number }> {
    // The topology query may wait longer than one connect (a refused TLS 1.3 certificate is explained by a second handshake).
    const c = extra({ topologyQueryTimeoutMs: 5000, ...options });
    const t0 = Date.now();
    const err = await c.connect().then(() => undefined, (e: unknown) => e);
    const ms = Date.now() - t0;
    assert.ok(err instanceof TlsError, `expected TlsError, got ${String(err)} ${JSON.stringify((err as { nodeErrors?: unknown }).nodeErrors)}`);
    return { err, ms };
  }

  it('no client certificate, or one from another CA: TlsError naming the node and the TLS cause, within the connect timeout', async () => {
    const { ca } = cluster.getTlsOptions()!;
    const none = await refused({ tls: { ca } });
    assert.equal(none.err.code, 'ERR_SLOTWISE_TLS');
    assert.equal(none.err.reason, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
    assert.match(none.err.message, /TLS handshake with 127\.0\.0\.1:\d+ failed: .*certificate required/);
    assert.ok(none.err.address && cluster.getPorts().includes(Number(none.err.address.split(':')[1])));
    assert.ok(none.ms < 1500, `failed after ${none.ms} ms, connect timeout 1500`);

    const alien = await refused({ tls: { ca, cert: foreign.clientCert, key: foreign.clientKey } });
    assert.equal(alien.err.reason, 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA');
    assert.ok(alien.ms < 1500, `failed after ${alien.ms} ms`);

    const unknownServer = await refused({ tls: { ...cluster.getTlsOptions()!, ca: foreign.ca } });
    assert.equal(unknownServer.err.reason, 'SELF_SIGNED_CERT_IN_CHAIN');
  });

  it('identity checks: the node certificate names the announced IP; a wrong servername is refused; checkServerIdentity is passed through', async () => {
    const wrong = await refused({ tls: { ...cluster.getTlsOptions()!, servername: 'not-this-cluster.example' } });
    assert.equal(wrong.err.reason, 'ERR_TLS_CERT_ALTNAME_INVALID');
    assert.match(wrong.err.message, /not-this-cluster\.example/);

    const seen: string[] = [];
    const custom = extra({
      tls: {
        ...cluster.getTlsOptions()!,
        checkServerIdentity: (host: string, cert: PeerCertificate) => {
          seen.push(`${host} ${cert.subject?.CN}`);
          return checkServerIdentity(host, cert);
        },
      },
    });
    await custom.connect();
    await custom.set('tls:identity', '1');
    assert.ok(seen.length > 0 && seen.every((s) => s.startsWith('127.0.0.1 ')), seen.join(', '));

    const rejecting = await refused({
      tls: { ...cluster.getTlsOptions()!, checkServerIdentity: () => Object.assign(new Error('pinned certificate mismatch'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }) },
    });
    assert.match(rejecting.err.message, /pinned certificate mismatch/);
  });

  it('tls as a function: certificates are read again for every new connection, without restarting the client', async () => {
    const { ca, cert, key } = cluster.getTlsOptions()!;
    let current = { ca, cert: foreign.clientCert, key: foreign.clientKey };
    let calls = 0;
    const c = extra({ tls: () => (calls++, current) });
    await assert.rejects(c.connect(), (e: unknown) => e instanceof TlsError && e.reason === 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA');
    current = { ca, cert, key };
    // The nodes' reconnect backoff (≤ 1 s) still runs after the refusal; the next attempt uses the new certificate.
    await waitFor(() => c.connect().then(() => true), { what: 'a connection with the reloaded certificate' });
    assert.equal(await c.set('tls:reloaded', 'yes'), 'OK');
    assert.ok(calls >= 2);
  });
});

/** A key hashing to `slot` (brute force over a numeric suffix). */
function keyInSlot(slot: number): string {
  for (let i = 0; ; i++) {
    const k = `tls:${i}`;
    if (slotOfKey(k) === slot) return k;
  }
}
