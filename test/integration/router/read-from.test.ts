/** readFrom policies and address mapping on the shared real cluster. */
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import net from 'node:net';
import { ClusterClient, slotOf, type CommandDiagnostics, type ReadFrom } from '../../../lib/index.js';
import { sharedCluster } from '../../helpers/cluster.js';

/** Addresses that served each GET, via the diagnostics channel. */
async function servedBy(c: ClusterClient, keys: string[]): Promise<string[]> {
  const seen: string[] = [];
  const listener = (m: unknown) => {
    const d = m as CommandDiagnostics;
    if (d.command === 'get' && d.address) seen.push(d.address);
  };
  diagnostics.subscribe('slotwise:command', listener);
  try {
    for (const k of keys) await c.get(k);
  } finally {
    diagnostics.unsubscribe('slotwise:command', listener);
  }
  return seen;
}

describe('readFrom and natMap (integration)', function () {
  this.timeout(30_000);
  const keys = Array.from({ length: 30 }, (_, i) => `rf:${i}`);

  before(async () => {
    const cluster = await sharedCluster();
    const writer = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await writer.connect();
    for (const k of keys) {
      // WAIT on the writing connection: the replicas have the value before we read from them.
      await writer.withConnection(k, async (conn) => {
        await conn.call('set', k, 'v');
        await conn.call('wait', '1', '2000');
      });
    }
    await writer.quit();
  });

  async function readWith(readFrom: ReadFrom): Promise<{ roles: Set<string>; values: (string | null)[] }> {
    const cluster = await sharedCluster();
    const c = new ClusterClient({ rootNodes: cluster.getRootNodes(), readFrom });
    await c.connect();
    const addresses = await servedBy(c, keys);
    const values = await Promise.all(keys.map((k) => c.get(k)));
    const roles = new Set(addresses.map((a) => c.topology!.node(a)!.role));
    await c.quit();
    return { roles, values };
  }

  it("'master' (default) reads from masters", async () => {
    assert.deepEqual([...(await readWith('master')).roles], ['master']);
  });

  it("'replica' and 'replicaPreferred' read from replicas and see replicated data", async () => {
    for (const policy of ['replica', 'replicaPreferred'] as const) {
      const { roles, values } = await readWith(policy);
      assert.deepEqual([...roles], ['replica'], policy);
      assert.ok(values.every((v) => v === 'v'), policy);
    }
  });

  it("'nearest' serves from healthy nodes of the shard and a function policy chooses itself", async () => {
    const nearest = await readWith('nearest');
    assert.ok(nearest.values.every((v) => v === 'v'));
    const chosen = await readWith((candidates) => candidates.find((n) => n.role === 'replica'));
    assert.deepEqual([...chosen.roles], ['replica']);
  });

  it('writes always go to the master whatever readFrom says', async () => {
    const cluster = await sharedCluster();
    const c = new ClusterClient({ rootNodes: cluster.getRootNodes(), readFrom: 'replica' });
    await c.connect();
    await c.set('rf:write', 'w');
    assert.equal(await c.withConnection('rf:write', (conn) => conn.call('get', 'rf:write')), 'w');
    await c.quit();
  });

  it('natMap sends discovery and every command through the mapped addresses', async () => {
    const cluster = await sharedCluster();
    // One TCP proxy per node stands in for a NAT: the cluster announces
    // 127.0.0.1:<port>, the client may only use the proxies.
    const proxies = new Map<number, { server: net.Server; port: number; bytes: number }>();
    for (const node of await cluster.getNodes()) {
      const entry = { server: net.createServer(), port: 0, bytes: 0 };
      entry.server.on('connection', (down) => {
        const up = net.connect(node.port, '127.0.0.1');
        down.on('data', (d) => (entry.bytes += d.length));
        down.pipe(up).pipe(down);
        const end = () => { down.destroy(); up.destroy(); };
        down.on('error', end); up.on('error', end); down.on('close', end); up.on('close', end);
      });
      await new Promise<void>((r) => entry.server.listen(0, '127.0.0.1', r));
      entry.port = (entry.server.address() as net.AddressInfo).port;
      proxies.set(node.port, entry);
    }
    const natMap = Object.fromEntries([...proxies].map(([port, p]) => [`127.0.0.1:${port}`, { host: '127.0.0.1', port: p.port }]));
    const first = [...proxies.values()][0]!;
    const c = new ClusterClient({ rootNodes: [`127.0.0.1:${first.port}`], natMap });
    await c.connect();
    for (const k of keys) assert.equal(await c.get(k), 'v');
    const used = new Set(c.topology!.nodes().map((n) => n.port));
    assert.ok([...used].every((p) => [...proxies.values()].some((x) => x.port === p)), 'every node address is a proxy');
    const masterProxies = c.nodes('master').map((n) => [...proxies.values()].find((x) => x.port === n.port)!);
    assert.ok(masterProxies.every((p) => p.bytes > 0), 'traffic went through every master proxy');
    assert.equal(c.topology!.shardOf(slotOf(keys[0]!))!.master.announced.startsWith('127.0.0.1:'), true);
    await c.quit();
    for (const p of proxies.values()) await new Promise((r) => { p.server.close(r); });
  });
});
