/**
 * What slotwise/ioredis does beyond (or differently from) ioredis' Cluster,
 * as docs/14-ioredis-compat.md states it: cross-slot pipelines, the
 * cluster-wide scanStream, option reporting, connect retries, unsubscribe,
 * ReplyError matching, and defineCommand on ClusterClient itself.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Cluster as IoCluster } from 'ioredis';
import { ClientClosedError, ClusterClient, InvalidArgumentError, QueueFullError, TimeoutError, slotOf } from '../../../lib/index.js';
import { Cluster, ReplyError } from '../../../lib/ioredis/index.js';
import { sharedCluster } from '../../helpers/cluster.js';
import { waitFor } from '../../helpers/wait.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
async function roots() {
  return (await sharedCluster()).getRootNodes().map((n) => ({ host: n.host, port: n.port }));
}

/** A loopback port with nothing listening. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('slotwise/ioredis behaviour beyond ioredis (integration)', function () {
  this.timeout(60_000);
  const open: { quit(): Promise<unknown> }[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.quit().catch(() => undefined)));
  });
  async function cluster(options: Record<string, unknown> = {}): Promise<any> {
    const c = new Cluster(await roots(), options);
    c.on('error', () => undefined);
    open.push(c);
    return c;
  }

  it('a pipeline over keys of different nodes works (ioredis\' Cluster rejects it)', async () => {
    const ns = randomUUID();
    const keys = Array.from({ length: 12 }, (_, i) => `${ns}:${i}`);
    assert.ok(new Set(keys.map(slotOf)).size > 3, 'keys in many slots');
    const sw = await cluster();
    const p = sw.pipeline();
    for (const k of keys) p.set(k, k);
    for (const k of keys) p.get(k);
    const results = await p.exec();
    assert.deepEqual(results.slice(keys.length), keys.map((k) => [null, k]));

    const io = new IoCluster(await roots());
    io.on('error', () => undefined);
    try {
      const q = io.pipeline();
      for (const k of keys) q.get(k);
      await assert.rejects(q.exec(), /same slots allocation group|same node/);
    } finally {
      await io.quit();
    }
  });

  it('scanStream() covers every master: each key written is found, in batches of at most count', async () => {
    const ns = randomUUID();
    const sw = await cluster();
    const written = Array.from({ length: 200 }, (_, i) => `${ns}:scan:${i}`);
    await sw.mset(...written.flatMap((k) => [k, '1']));
    const found: string[] = [];
    for await (const batch of sw.scanStream({ match: `${ns}:scan:*`, count: 50 })) {
      assert.ok(batch.length <= 50);
      found.push(...batch);
    }
    assert.deepEqual([...new Set(found)].sort(), [...written].sort());
  });

  it('reports an option without a meaning once per process (process warning) and on ignoredOptions', async () => {
    const option = `unknownOption${randomUUID().slice(0, 6)}`;
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const a = await cluster({ lazyConnect: true, [option]: 1 });
      const b = await cluster({ lazyConnect: true, [option]: 2 });
      assert.deepEqual(a.ignoredOptions, [option]);
      assert.deepEqual(b.ignoredOptions, [option]);
      await waitFor(() => warnings.some((w) => w.message.includes(option)), { what: 'the warning' });
      // Give a second warning (if any) the same chance to arrive before counting.
      await new Promise((r) => setImmediate(r));
      const mine = warnings.filter((w) => w.message.includes(option));
      assert.equal(mine.length, 1);
      assert.equal((mine[0] as Error & { code?: string }).code, 'SLOTWISE_IOREDIS_OPTION_IGNORED');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('redisOptions.db other than 0 is an InvalidArgumentError, before anything connects', async () => {
    const nodes = await roots();
    assert.throws(() => new Cluster(nodes, { redisOptions: { db: 3 } }), InvalidArgumentError);
  });

  it('enableOfflineQueue: false fails a command issued before ready at once (QueueFullError)', async () => {
    const sw = await cluster({ lazyConnect: true, enableOfflineQueue: false });
    await assert.rejects(sw.get('x'), QueueFullError);
    await sw.connect();
    assert.equal(await sw.get(`${randomUUID()}`), null);
  });

  it('clusterRetryStrategy: error, reconnecting(delay) per failed discovery; no number ends the cluster and rejects connect()', async () => {
    const port = await deadPort();
    const calls: number[] = [];
    const events: unknown[] = [];
    const sw = new Cluster([{ host: '127.0.0.1', port }], {
      lazyConnect: true,
      redisOptions: { connectTimeout: 500 },
      clusterRetryStrategy: (times: number) => {
        calls.push(times);
        return times < 3 ? 10 : null;
      },
    });
    for (const e of ['error', 'reconnecting', 'close', 'end']) sw.on(e, (arg: unknown) => events.push(e === 'reconnecting' ? [e, arg] : e));
    await assert.rejects(sw.connect());
    assert.deepEqual(calls, [1, 2, 3]);
    assert.deepEqual(events, ['error', ['reconnecting', 10], 'error', ['reconnecting', 10], 'error', 'close', 'end']);
    assert.equal(sw.status, 'end');
  });

  it('unsubscribe(channel) stops that channel only; counts follow', async () => {
    const ns = randomUUID();
    const sub = await cluster();
    const pub = await cluster();
    const got: string[] = [];
    sub.on('message', (channel: string) => got.push(channel));
    assert.equal(await sub.subscribe(`${ns}:a`, `${ns}:b`), 2);
    assert.equal(await sub.unsubscribe(`${ns}:a`), 1);
    await waitFor(async () => {
      await pub.publish(`${ns}:a`, 'x');
      await pub.publish(`${ns}:b`, 'y');
      return got.includes(`${ns}:b`);
    }, { what: 'a message on b' });
    assert.ok(!got.includes(`${ns}:a`), 'no message on the unsubscribed channel');
    assert.equal(await sub.unsubscribe(), 0);
  });

  it('ReplyError matches every server error reply and nothing else', async () => {
    const sw = await cluster();
    const key = randomUUID();
    await sw.set(key, 'v');
    const reply = await sw.lpush(key, 'x').catch((e: Error) => e);
    assert.ok(reply instanceof ReplyError);
    const fromNode = await sw.nodes('master')[0].call('NOSUCHCOMMAND').catch((e: Error) => e);
    assert.ok(fromNode instanceof ReplyError, 'raw replies from a node match too');
    assert.ok(!(new TimeoutError('t', 1) instanceof ReplyError));
    assert.ok(new ReplyError('ERR x') instanceof ReplyError);
  });

  it('disconnect(): close then end, status end, later commands fail with ClientClosedError; disconnect(true) is refused', async () => {
    const sw = await cluster();
    await sw.get(randomUUID());
    const seen: string[] = [];
    sw.on('close', () => seen.push('close'));
    sw.on('end', () => seen.push('end'));
    assert.throws(() => sw.disconnect(true), InvalidArgumentError);
    await sw.disconnect();
    assert.deepEqual(seen, ['close', 'end']);
    assert.equal(sw.status, 'end');
    await assert.rejects(sw.get('x'), ClientClosedError);
  });

  it('+node per node of the map on connect; refresh on a map change', async () => {
    const sw = new Cluster(await roots(), { lazyConnect: true });
    open.push(sw);
    const added: string[] = [];
    sw.on('+node', (n: any) => added.push(`${n.options.host}:${n.options.port}`));
    let refreshed = 0;
    sw.on('refresh', () => refreshed++);
    await sw.connect();
    assert.equal(added.length, sw.nodes('all').length);
    assert.ok(refreshed >= 1);
  });
});

describe('ClusterClient.defineCommand (integration)', () => {
  let client: ClusterClient;
  before(async () => {
    client = new ClusterClient({ rootNodes: (await sharedCluster()).getRootNodes() });
    await client.connect();
  });
  after(async () => {
    await client.quit();
  });

  it('adds name and nameBuffer methods (EVALSHA, EVAL on NOSCRIPT), fixed and dynamic key counts, callbacks', async () => {
    const c = client as any;
    const tag = `{${randomUUID()}}`;
    client.defineCommand('swEcho', { numberOfKeys: 2, lua: `-- ${tag}\nreturn {KEYS[1], KEYS[2], ARGV[1]}` });
    assert.deepEqual(await c.swEcho(`${tag}a`, `${tag}b`, 'x'), [`${tag}a`, `${tag}b`, 'x']);
    assert.deepEqual(await c.swEchoBuffer(`${tag}a`, `${tag}b`, 'x'), [Buffer.from(`${tag}a`), Buffer.from(`${tag}b`), Buffer.from('x')]);
    client.defineCommand('swDyn', { lua: 'return #KEYS' });
    assert.equal(await c.swDyn(3, `${tag}1`, `${tag}2`, `${tag}3`), 3);
    const viaCb = await new Promise((resolve) => c.swDyn(1, `${tag}1`, (err: Error | null, r: unknown) => resolve(err ?? r)));
    assert.equal(viaCb, 1);
  });

  it('refuses bad names, shadowing a method, and a missing key count', async () => {
    assert.throws(() => client.defineCommand('get', { lua: 'return 1' }), InvalidArgumentError);
    assert.throws(() => client.defineCommand('bad name', { lua: 'return 1' }), InvalidArgumentError);
    assert.throws(() => client.defineCommand('noLua', { lua: '' }), InvalidArgumentError);
    client.defineCommand('swNeedsCount', { lua: 'return 1' });
    await assert.rejects((client as any).swNeedsCount('notANumber'), InvalidArgumentError);
  });
});
