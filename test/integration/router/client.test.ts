/** The ClusterClient facade on the shared real cluster: commands, errors, events, lifecycle. */
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import net from 'node:net';
import {
  ClientClosedError,
  ClusterClient,
  CrossSlotError,
  InvalidArgumentError,
  QueueFullError,
  RedisReplyError,
  TopologyError,
  UnknownCommandError,
  type CommandDiagnostics,
} from '../../../lib/index.js';
import { sharedCluster } from '../../helpers/cluster.js';

async function client(extra: Partial<ConstructorParameters<typeof ClusterClient>[0]> = {}): Promise<ClusterClient> {
  const cluster = await sharedCluster();
  return new ClusterClient({ rootNodes: cluster.getRootNodes(), ...extra });
}

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('ClusterClient (integration)', function () {
  this.timeout(30_000);
  let c: ClusterClient;

  before(async () => {
    c = await client();
    await c.connect();
  });
  after(async () => {
    await c?.quit();
  });

  it('runs typed commands on every master and returns ioredis-shaped replies', async () => {
    await c.set('greeting', 'hello');
    assert.equal(await c.get('greeting'), 'hello');
    assert.deepEqual(await c.getBuffer('greeting'), Buffer.from('hello'));
    assert.equal(await c.hset('user:{7}', { name: 'ada', lang: 'en' }), 2);
    assert.deepEqual(await c.hgetall('user:{7}'), { name: 'ada', lang: 'en' });
    assert.equal(await c.call('OBJECT', 'ENCODING', 'greeting'), 'embstr');
    // keys on every master
    const owners = new Set<string>();
    for (let i = 0; i < 60; i++) {
      await c.set(`spread:${i}`, String(i));
      owners.add(c.topology!.shardOf((await import('../../../lib/index.js')).slotOf(`spread:${i}`))!.master.address);
    }
    assert.equal(owners.size, 3);
    assert.equal(await c.incrby('counter:{a}', 5), 5);
  });

  it('supports ioredis-style callbacks', async () => {
    const value = await new Promise((resolve, reject) => c.get('greeting', (err, v) => (err ? reject(err) : resolve(v))));
    assert.equal(value, 'hello');
  });

  it('rejects an unknown command with UnknownCommandError before sending anything', async () => {
    await assert.rejects(c.call('NOSUCHCMD', 'x'), (e: unknown) => e instanceof UnknownCommandError && e.command === 'NOSUCHCMD');
  });

  it('surfaces the server arity error naming the command', async () => {
    await assert.rejects(c.call('GET'), (e: unknown) => e instanceof RedisReplyError && /wrong number of arguments for 'get'/.test(e.message));
    await assert.rejects(c.call('SET', 'only-key'), (e: unknown) => e instanceof RedisReplyError && /'set'/.test(e.message));
  });

  it('rejects keys in different slots with CrossSlotError and writes nothing', async () => {
    await assert.rejects(c.call('MSETNX', 'xs:a', '1', 'xs:b', '2'), (e: unknown) => e instanceof CrossSlotError && e.slots.length === 2 && /hash tag/.test(e.message));
    assert.equal(await c.exists('xs:a'), 0);
    assert.equal(await c.exists('xs:b'), 0);
    assert.equal(await c.call('MSETNX', '{xs}:a', '1', '{xs}:b', '2'), 1, 'same slot via a hash tag works');
  });

  it('refuses connection-state commands on the shared connection with a pointer to the right API', async () => {
    await assert.rejects(c.call('MULTI'), (e: unknown) => e instanceof InvalidArgumentError && /multi\(\)/.test(e.message));
    await assert.rejects(c.call('WAIT', '1', '10'), (e: unknown) => e instanceof InvalidArgumentError && /withConnection/.test(e.message));
  });

  it('queues commands issued before connect() and runs them once the map is known', async () => {
    const fresh = await client();
    const pending = [fresh.set('early:1', 'a'), fresh.get('early:1')];
    await fresh.connect();
    assert.deepEqual(await Promise.all(pending), ['OK', 'a']);
    await fresh.quit();
  });

  it('bounds that queue: more than maxWaitingCommands fail with QueueFullError', async () => {
    const fresh = await client({ maxWaitingCommands: 2 });
    const results = await Promise.allSettled([fresh.get('q:1'), fresh.get('q:2'), fresh.get('q:3')]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 2);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.ok(rejected.reason instanceof QueueFullError);
    await fresh.quit();
  });

  it('fails with TopologyError listing every root node when none answers', async () => {
    const ports = [await closedPort(), await closedPort()];
    const dead = new ClusterClient({ rootNodes: ports.map((p) => `127.0.0.1:${p}`), connectTimeoutMs: 500 });
    const pending = dead.get('x');
    await assert.rejects(dead.connect(), (e: unknown) => {
      assert.ok(e instanceof TopologyError);
      assert.deepEqual(Object.keys(e.nodeErrors).sort(), ports.map((p) => `127.0.0.1:${p}`).sort());
      assert.ok(Object.values(e.nodeErrors).every((m) => /ECONNREFUSED|connect/i.test(m)));
      return true;
    });
    await assert.rejects(pending, TopologyError, 'a command waiting for the topology fails with the same error');
    await dead.disconnect();
  });

  it('throws InvalidArgumentError for options out of range', () => {
    assert.throws(() => new ClusterClient({ rootNodes: ['127.0.0.1:1'], commandTimeoutMs: -5 }), /commandTimeoutMs/);
    assert.throws(() => new ClusterClient({ rootNodes: [] }), InvalidArgumentError);
  });

  it('publishes settled commands on the slotwise:command diagnostics channel', async () => {
    const seen: CommandDiagnostics[] = [];
    const listener = (m: unknown) => seen.push(m as CommandDiagnostics);
    diagnostics.subscribe('slotwise:command', listener);
    try {
      await c.set('diag:key', '1');
    } finally {
      diagnostics.unsubscribe('slotwise:command', listener);
    }
    const entry = seen.find((d) => d.command === 'set');
    assert.ok(entry && entry.attempts === 1 && entry.address && entry.slot >= 0);
  });

  it('emits topology and node:added on connect, and exposes nodes with stats', async () => {
    const fresh = await client();
    const added: string[] = [];
    let topologies = 0;
    fresh.on('node:added', (n) => added.push(n.address));
    fresh.on('topology', () => topologies++);
    await fresh.connect();
    assert.equal(topologies, 1);
    assert.equal(added.length, 6, 'three masters and three replicas');
    assert.equal(fresh.nodes('master').length, 3);
    assert.equal(fresh.nodes('replica').length, 3);
    await fresh.ping();
    assert.ok(fresh.nodes('master').some((n) => n.stats.commands > 0));
    await fresh.quit();
  });

  it('after quit(), commands fail with ClientClosedError', async () => {
    const fresh = await client();
    await fresh.connect();
    await fresh.quit();
    await assert.rejects(fresh.get('x'), ClientClosedError);
  });

  it('quit() lets commands already accepted finish', async () => {
    const fresh = await client();
    await fresh.connect();
    const inflight = Array.from({ length: 200 }, (_, i) => fresh.set(`drain:${i}`, String(i)));
    await fresh.quit();
    const results = await Promise.all(inflight);
    assert.ok(results.every((r) => r === 'OK'));
  });
});
