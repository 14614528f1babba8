/**
 * slotwise/ioredis against ioredis' own Cluster, on the same engine cluster:
 * every cluster-mode example of ioredis' README (and the general examples it
 * says Cluster supports: pipelines, transactions, custom commands, key
 * prefixing, binary data, scan streams, pub/sub, events, errors) is written
 * once, run through BOTH clients, and the results compared. Each run gets
 * its own hash-tagged namespace, so the results are normalised by replacing
 * the namespace before comparing.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import IORedis, { Cluster as IoCluster } from 'ioredis';
import SlotwiseRedis, { Cluster as SwCluster, ReplyError } from '../../../lib/ioredis/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../../testcontainers/index.js';
import { sharedCluster } from '../../helpers/cluster.js';
import { waitFor } from '../../helpers/wait.js';

// The two Cluster classes and their ReplyError, side by side.
/* eslint-disable @typescript-eslint/no-explicit-any */
type AnyCluster = any;
interface Flavour {
  readonly name: 'ioredis' | 'slotwise';
  make(nodes: unknown[], options?: Record<string, unknown>): AnyCluster;
  readonly ReplyError: new (...a: any[]) => Error;
}
const FLAVOURS: readonly Flavour[] = [
  { name: 'ioredis', make: (n, o) => new IoCluster(n as never, o as never), ReplyError: (IORedis as any).ReplyError },
  { name: 'slotwise', make: (n, o) => new SwCluster(n as never, o as never), ReplyError },
];

/** A run's context: its namespace `ns` (a hash tag: one slot) and clients to close after it. */
interface Ctx {
  readonly ns: string;
  /** `{ns}:name` — every key of one example in one slot, so ioredis' pipelines accept them. */
  k(name: string): string;
  /** A client of this flavour (closed after the example); `startup` replaces the engine's nodes as startup nodes. */
  cluster(options?: Record<string, unknown>, startup?: unknown[]): AnyCluster;
  readonly flavour: Flavour;
}

/** Replaces the namespace in every string/Buffer; errors become comparable records. */
function normalise(v: unknown, ns: string, flavour: Flavour): unknown {
  if (typeof v === 'string') return v.split(ns).join('<ns>');
  if (Buffer.isBuffer(v)) return { buffer: v.toString('latin1').split(ns).join('<ns>') };
  if (v instanceof Error) return { error: v.message.split(ns).join('<ns>'), replyError: v instanceof flavour.ReplyError };
  if (Array.isArray(v)) return v.map((x) => normalise(x, ns, flavour));
  if (v instanceof Map) return { map: [...v].map(([a, b]) => [normalise(a, ns, flavour), normalise(b, ns, flavour)]) };
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([a, b]) => [a.split(ns).join('<ns>'), normalise(b, ns, flavour)]));
  return v;
}

/** Resolves with a callback's (err, result). */
function viaCallback(start: (cb: (err: Error | null, res?: unknown) => void) => void): Promise<unknown> {
  return new Promise((resolve) => start((err, res) => resolve(err ? err : res)));
}

async function collect(stream: Readable): Promise<unknown[]> {
  const all: unknown[] = [];
  for await (const batch of stream) all.push(...(batch as unknown[]));
  return all;
}

describe('slotwise/ioredis: the examples of ioredis\' README give the same results as ioredis\' Cluster (integration)', function () {
  this.timeout(60_000);
  let engine: StartedRedisCluster;
  let nodes: { host: string; port: number }[];

  before(async () => {
    engine = await sharedCluster();
    nodes = engine.getRootNodes().map((n) => ({ host: n.host, port: n.port }));
  });

  /** Runs `example` through both clients; asserts equal normalised results; returns them. */
  function same(title: string, example: (c: Ctx) => Promise<unknown>, options: Record<string, unknown> = {}): void {
    it(title, async () => {
      const results: Record<string, unknown> = {};
      for (const flavour of FLAVOURS) {
        const ns = `${flavour.name}-${randomUUID().slice(0, 8)}`;
        const opened: AnyCluster[] = [];
        const ctx: Ctx = {
          ns,
          flavour,
          k: (name) => `{${ns}}:${name}`,
          cluster: (o, startup) => {
            const c = flavour.make(startup ?? nodes, { ...options, ...o });
            c.on('error', () => undefined);
            opened.push(c);
            return c;
          },
        };
        try {
          results[flavour.name] = normalise(await example(ctx), ns, flavour);
        } finally {
          await Promise.all(opened.map((c) => c.quit().catch(() => c.disconnect())));
        }
      }
      assert.deepEqual(results.slotwise, results.ioredis);
    });
  }

  // ── "Cluster": connect, then set/get with a callback ─────────────────────
  same('set, then get with a node-style callback', async (c) => {
    const cluster = c.cluster();
    const set = await cluster.set(c.k('foo'), 'bar');
    const got = await viaCallback((cb) => cluster.get(c.k('foo'), cb));
    return [set, got];
  });

  // ── "Read-Write Splitting": scaleReads ───────────────────────────────────
  for (const scaleReads of ['master', 'slave', 'all'] as const) {
    same(`scaleReads "${scaleReads}": writes go to masters, reads are answered`, async (c) => {
      const cluster = c.cluster({ scaleReads });
      const set = await cluster.set(c.k('foo'), 'bar');
      // A replica may lag: wait until the read sees the write.
      const got = await waitFor(() => cluster.get(c.k('foo')), { what: 'the read to see the write' });
      return [set, got];
    });
  }

  // ── "Running Commands to Multiple Nodes": nodes(role) ────────────────────
  same('nodes("master") / nodes("slave") / nodes("all"): one per node, commands run on that node', async (c) => {
    const cluster = c.cluster();
    await cluster.set(c.k('a'), '1');
    const masters = cluster.nodes('master');
    const keys = (await Promise.all(masters.map((n: AnyCluster) => n.keys(`{${c.ns}}:*`)))).flat();
    const slaves = cluster.nodes('slave');
    const roles = new Set(await Promise.all(slaves.map((n: AnyCluster) => n.call('ROLE').then((r: unknown[]) => r[0]))));
    // How many replicas a client lists right after start-up depends on when it asked: compare the shape.
    return { masters: masters.length, allIsMastersPlusSlaves: cluster.nodes('all').length === masters.length + slaves.length, keys, slaveRoles: [...roles].filter((r) => r !== 'slave') };
  });

  // ── "NAT Mapping": object and function forms ─────────────────────────────
  same('natMap as an object and as a function', async (c) => {
    const object = Object.fromEntries(nodes.map((n) => [`${n.host}:${n.port}`, { host: n.host, port: n.port }]));
    const a = c.cluster({ natMap: object });
    const b = c.cluster({ natMap: (key: string) => (key.startsWith('127.0.0.1:') ? { host: '127.0.0.1', port: Number(key.split(':')[1]) } : null) });
    return [await a.set(c.k('nat'), 'x'), await b.get(c.k('nat'))];
  });

  // ── "Pipelining" ─────────────────────────────────────────────────────────
  same('pipeline: queued commands, exec with a callback and as a promise, [err, result] per command', async (c) => {
    const cluster = c.cluster();
    const p = cluster.pipeline();
    p.set(c.k('foo'), 'bar');
    p.del(c.k('cc'));
    const first = await viaCallback((cb) => p.exec(cb));
    const chained = await cluster.pipeline().set(c.k('foo'), 'bar').get(c.k('foo')).exec();
    return [first, chained];
  });
  same('pipeline: a per-command callback gets that command\'s reply', async (c) => {
    const cluster = c.cluster();
    let fromCallback: unknown;
    const results = await cluster.pipeline().set(c.k('foo'), 'bar').get(c.k('foo'), (err: Error | null, r: unknown) => {
      fromCallback = err ?? r;
    }).exec();
    await waitFor(() => fromCallback !== undefined, { what: 'the per-command callback' });
    return [fromCallback, results[1][1]];
  });
  same('pipeline([[cmd, ...args], …]) and .length', async (c) => {
    const cluster = c.cluster();
    const batch = await cluster.pipeline([['set', c.k('foo'), 'bar'], ['get', c.k('foo')]]).exec();
    return [batch, cluster.pipeline().set(c.k('foo'), 'bar').get(c.k('foo')).length];
  });
  same('pipeline: a failing command is [error] in place; the others run', async (c) => {
    const cluster = c.cluster();
    return cluster.pipeline().set(c.k('s'), 'x').lpush(c.k('s'), 'y').get(c.k('s')).exec();
  });

  // ── "Transaction" ────────────────────────────────────────────────────────
  same('multi().set().get().exec()', async (c) => {
    const cluster = c.cluster();
    return cluster.multi().set(c.k('foo'), 'bar').get(c.k('foo')).exec();
  });
  same('multi(): a command error before EXEC aborts it (EXECABORT, ReplyError)', async (c) => {
    const cluster = c.cluster();
    const err = await cluster.multi().set(c.k('foo')).set(c.k('foo'), 'new value').exec().then(() => 'no error', (e: Error) => e);
    return [err instanceof Error, err instanceof c.flavour.ReplyError, String((err as Error).message).split(' ')[0], await cluster.get(c.k('foo'))];
  });
  same('multi(): per-command callbacks get the queueing state', async (c) => {
    const cluster = c.cluster();
    let state: unknown;
    const results = await cluster.multi().set(c.k('foo'), 'bar', (_e: unknown, r: unknown) => {
      state = r;
    }).exec();
    await waitFor(() => state !== undefined, { what: 'the queueing callback' });
    return [state, results];
  });
  same('multi([[cmd, ...args], …])', async (c) => {
    const cluster = c.cluster();
    return cluster.multi([['set', c.k('foo'), 'bar'], ['get', c.k('foo')]]).exec();
  });

  // ── "Lua Scripting": defineCommand, Buffer variant, pipelines, dynamic keys, scripts option ──
  const myecho = { numberOfKeys: 2, lua: 'return {KEYS[1],KEYS[2],ARGV[1],ARGV[2]}' };
  same('defineCommand: a custom command with a callback, its Buffer variant, and in a pipeline', async (c) => {
    const cluster = c.cluster();
    cluster.defineCommand('myecho', myecho);
    const viaCb = await viaCallback((cb) => cluster.myecho(c.k('k1'), c.k('k2'), 'a1', 'a2', cb));
    const buf = await cluster.myechoBuffer(c.k('k1'), c.k('k2'), 'a1', 'a2');
    const piped = await cluster.pipeline().set(c.k('foo'), 'bar').myecho(c.k('k1'), c.k('k2'), 'a1', 'a2').exec();
    const multi = await cluster.multi().myecho(c.k('k1'), c.k('k2'), 'a1', 'a2').exec();
    return [viaCb, buf, piped, multi];
  });
  same('defineCommand without numberOfKeys: the first argument is the key count', async (c) => {
    const cluster = c.cluster();
    cluster.defineCommand('echoDynamicKeyNumber', { lua: myecho.lua });
    return cluster.echoDynamicKeyNumber(2, c.k('k1'), c.k('k2'), 'a1', 'a2');
  });
  same('the scripts constructor option', async (c) => {
    const cluster = c.cluster({ scripts: { myecho } });
    return cluster.myecho(c.k('k1'), c.k('k2'), 'a1', 'a2');
  });
  same('a script no node has cached yet runs (EVALSHA answered NOSCRIPT → EVAL)', async (c) => {
    const cluster = c.cluster();
    const lua = `return '${c.flavour.name}-${randomUUID()}'`.replace(c.ns, '');
    cluster.defineCommand('fresh', { numberOfKeys: 1, lua });
    const r = await cluster.fresh(c.k('x'));
    return typeof r;
  });

  // ── "Transparent Key Prefixing" ──────────────────────────────────────────
  same('keyPrefix: keys are prefixed (not patterns, not replies), in commands, pipelines and custom commands', async (c) => {
    const prefixed = c.cluster({ keyPrefix: `{${c.ns}}:` });
    const plain = c.cluster();
    prefixed.defineCommand('myecho', myecho);
    await prefixed.set('bar', 'baz');
    const raw = await plain.get(c.k('bar'));
    await plain.rpush(c.k('list'), '3', '1', '2');
    await plain.mset(c.k('weight_1'), '3', c.k('weight_2'), '1', c.k('weight_3'), '2');
    const piped = await prefixed.pipeline().sort('list', 'BY', 'weight_*').myecho('k1', 'k2', 'a1', 'a2').exec();
    const mget = await prefixed.mget('bar', 'nope');
    return [raw, piped, mget, await prefixed.exists('bar')];
  });

  // ── "Transforming Arguments & Replies" ───────────────────────────────────
  same('hset with an object and a Map, hgetall as an object, mset with an object', async (c) => {
    const cluster = c.cluster();
    await cluster.hset(c.k('h'), { a: '1', b: '2' });
    await cluster.hset(c.k('h'), new Map([['c', '3']]));
    await cluster.mset({ [c.k('m1')]: 'x', [c.k('m2')]: 'y' });
    return [await cluster.hgetall(c.k('h')), await cluster.mget(c.k('m1'), c.k('m2'))];
  });

  // ── "Expiration" ─────────────────────────────────────────────────────────
  same('set with EX, ttl', async (c) => {
    const cluster = c.cluster();
    await cluster.set(c.k('e'), 'v', 'EX', 100);
    const ttl = await cluster.ttl(c.k('e'));
    return ttl > 90 && ttl <= 100;
  });

  // ── "Handle Binary Data" ─────────────────────────────────────────────────
  same('Buffers in and out (setBuffer/getBuffer)', async (c) => {
    const cluster = c.cluster();
    await cluster.set(c.k('b'), Buffer.from([0x62, 0x75, 0x66, 0xff]));
    return [await cluster.getBuffer(c.k('b')), await cluster.get(c.k('nothing')), await cluster.getBuffer(c.k('nothing'))];
  });

  // ── "Streamify Scanning": per-key scan streams, per-node scanStream ──────
  same('sscanStream / hscanStream / zscanStream (and hscanStream noValues is not needed here)', async (c) => {
    const cluster = c.cluster();
    const members = Array.from({ length: 50 }, (_, i) => `m${i}`);
    await cluster.sadd(c.k('set'), ...members);
    await cluster.hset(c.k('hash'), Object.fromEntries(members.map((m) => [m, m.toUpperCase()])));
    await cluster.zadd(c.k('zset'), ...members.flatMap((m, i) => [i, m]));
    const set = (await collect(cluster.sscanStream(c.k('set'), { count: 10 }))).sort();
    const hash = (await collect(cluster.hscanStream(c.k('hash'), { match: 'm1*' }))).length;
    const zset = (await collect(cluster.zscanStream(c.k('zset')))).length;
    return [set, hash, zset];
  });
  same('scanStream on each master node finds every key, once', async (c) => {
    const cluster = c.cluster();
    await Promise.all(Array.from({ length: 30 }, (_, i) => cluster.set(`${c.ns}:scan:${i}`, 'v')));
    await cluster.get(c.k('warm'));
    const perNode = await Promise.all(cluster.nodes('master').map((n: AnyCluster) => collect(n.scanStream({ match: `${c.ns}:scan:*`, count: 100 }))));
    return perNode.flat().sort();
  });

  // ── "Pub/Sub" and "Sharded Pub/Sub" ──────────────────────────────────────
  same('subscribe (callback) then publish: message event (channel, message)', async (c) => {
    const pub = c.cluster();
    const sub = c.cluster();
    const got: unknown[] = [];
    sub.on('message', (channel: string, message: string) => got.push([channel, message]));
    const count = await viaCallback((cb) => sub.subscribe(`${c.ns}:news`, `${c.ns}:music`, cb));
    await waitFor(async () => {
      await pub.publish(`${c.ns}:news`, 'highlights');
      return got.length > 0;
    }, { what: 'the message' });
    return [count, got[0]];
  });
  same('psubscribe: pmessage (pattern, channel, message)', async (c) => {
    const pub = c.cluster();
    const sub = c.cluster();
    const got: unknown[] = [];
    sub.on('pmessage', (pattern: string, channel: string, message: string) => got.push([pattern, channel, message]));
    const count = await sub.psubscribe(`${c.ns}:news.*`);
    await waitFor(async () => {
      await pub.publish(`${c.ns}:news.tech`, 'hi');
      return got.length > 0;
    }, { what: 'the pmessage' });
    return [count, got[0]];
  });
  same('ssubscribe two channels of one slot, then spublish: smessage (channel, message)', async (c) => {
    const cluster = c.cluster();
    const got: unknown[] = [];
    cluster.on('smessage', (channel: string, message: string) => got.push([channel, message]));
    const count = await cluster.ssubscribe(`channel{${c.ns}}:1`, `channel{${c.ns}}:2`);
    await waitFor(async () => {
      await cluster.spublish(`channel{${c.ns}}:1`, 'This is a test message to my first channel.');
      return got.length > 0;
    }, { what: 'the smessage' });
    return [count, got[0]];
  }, { shardedSubscribers: true });

  // ── "Events" and status ──────────────────────────────────────────────────
  same('lazyConnect: status wait; listeners registered before connect() see connect then ready; quit: close then end', async (c) => {
    const cluster = c.cluster({ lazyConnect: true });
    const seen: string[] = [cluster.status];
    for (const e of ['connect', 'ready', 'close', 'end']) cluster.on(e, () => seen.push(e));
    await cluster.connect();
    seen.push(cluster.status);
    await cluster.get(c.k('x'));
    await cluster.quit();
    await waitFor(() => seen.includes('end'), { what: 'end' });
    seen.push(cluster.status);
    return seen;
  });
  same('without lazyConnect the cluster connects by itself and emits ready', async (c) => {
    const cluster = c.cluster();
    if (cluster.status !== 'ready') await once(cluster, 'ready');
    return cluster.status;
  });

  // ── "Error Handling" ─────────────────────────────────────────────────────
  same('a reply error is a ReplyError (callback and promise)', async (c) => {
    const cluster = c.cluster();
    const viaCb = await viaCallback((cb) => cluster.set(c.k('foo'), cb));
    const viaPromise = await cluster.lpush(c.k('str'), 'x').then(() => cluster.get(c.k('str'))).catch((e: Error) => e);
    return [viaCb, viaPromise];
  });

  // ── "Special Note: Aws Elasticache Clusters with TLS": the identity dnsLookup (here without TLS) ──
  same('dnsLookup: (address, cb) => cb(null, address)', async (c) => {
    const cluster = c.cluster({ dnsLookup: (address: string, cb: (e: null, a: string) => void) => cb(null, address) });
    return [await cluster.set(c.k('dns'), 'v'), await cluster.get(c.k('dns'))];
  });

  // ── ClusterOptions.dnsLookup: startup nodes given by a name only dnsLookup knows ──
  same('dnsLookup resolves startup nodes given by name', async (c) => {
    const asked = new Set<string>();
    const byName = new Map(nodes.map((n, i) => [`node${i}.cluster.slotwise.test`, n.host]));
    const dnsLookup = (name: string, cb: (e: NodeJS.ErrnoException | null, a: string, f?: number) => void) => {
      asked.add(name);
      const ip = byName.get(name);
      if (ip === undefined) cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' }), '');
      else cb(null, ip, 4);
    };
    const cluster = c.cluster({ dnsLookup }, [...byName.keys()].map((host, i) => ({ host, port: nodes[i]!.port })));
    const result = [await cluster.set(c.k('dns-name'), 'v'), await cluster.get(c.k('dns-name'))];
    // Each client asks for at least one of the names (slotwise: the first that answers), never for anything else.
    return [result, asked.size > 0 && [...asked].every((n) => byName.has(n))];
  });

  // ── "Streams" ────────────────────────────────────────────────────────────
  same('xadd / xread, and a blocking xread woken by an xadd', async (c) => {
    const cluster = c.cluster();
    const writer = c.cluster();
    await cluster.xadd(c.k('stream'), '1-1', 'field', 'value');
    const read = await cluster.xread('COUNT', 10, 'STREAMS', c.k('stream'), '0');
    const blocked = cluster.xread('BLOCK', 10_000, 'STREAMS', c.k('stream'), '$');
    // Written until the blocked read sees it (it may not be blocking yet when the first lands).
    let id = 2;
    const woke = await waitFor(async () => {
      await writer.xadd(c.k('stream'), `${id++}-1`, 'late', 'entry');
      return Promise.race([blocked, new Promise((r) => setTimeout(() => r(undefined), 50))]);
    }, { what: 'the blocking XREAD to return' }) as [string, [string, string[]][]][];
    return [read, woke[0]![0], woke[0]![1][0]![1]];
  });

  same('duplicate(): a second client with the same options', async (c) => {
    const cluster = c.cluster({ keyPrefix: `{${c.ns}}:` });
    const copy = cluster.duplicate();
    copy.on('error', () => undefined);
    try {
      await cluster.set('d', '1');
      return [await copy.get('d'), copy.status === 'end'];
    } finally {
      await copy.quit();
    }
  });
});

describe('slotwise/ioredis: the "Password" example, on a cluster that requires one (integration)', function () {
  this.timeout(120_000);
  let engine: StartedRedisCluster;
  before(async () => {
    engine = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(0).withPassword('your-cluster-password').start();
  });
  after(async () => {
    await engine?.stop();
  });

  it('redisOptions.password: both clients authenticate to every node and give the same answers', async () => {
    const nodes = engine.getRootNodes().map((n) => ({ host: n.host, port: n.port }));
    const results: unknown[] = [];
    for (const make of FLAVOURS) {
      const cluster = make.make(nodes, { redisOptions: { password: 'your-cluster-password' } });
      const wrong = make.make(nodes, { redisOptions: { password: 'wrong' }, lazyConnect: true, clusterRetryStrategy: () => null });
      cluster.on('error', () => undefined);
      wrong.on('error', () => undefined);
      try {
        const keys = Array.from({ length: 6 }, (_, i) => `pw:${make.name}:${i}`);
        await Promise.all(keys.map((k) => cluster.set(k, 'v')));
        const values = await Promise.all(keys.map((k) => cluster.get(k)));
        const refused = await wrong.connect().then(() => 'connected', () => 'refused');
        results.push([values, refused]);
      } finally {
        await cluster.quit();
        await wrong.quit().catch(() => wrong.disconnect());
      }
    }
    assert.deepEqual(results[1], results[0]);
  });
});

describe('slotwise/ioredis: the default export and errors (integration)', () => {
  it('new Redis.Cluster(…) works; new Redis() names what to use instead', async () => {
    const engine = await sharedCluster();
    const cluster = new SlotwiseRedis.Cluster(engine.getRootNodes().map((n) => ({ host: n.host, port: n.port })), { lazyConnect: true });
    try {
      assert.equal(await cluster.ping(), 'PONG');
    } finally {
      await cluster.quit();
    }
    assert.throws(() => new (SlotwiseRedis as unknown as new () => unknown)(), /Cluster client only/);
  });
});
