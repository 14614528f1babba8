/**
 * Native OpenTelemetry with the real SDK (in-memory span exporter, metric
 * reader): span tree and semconv attributes, batch spans, metrics consistent
 * with the operations run, MOVED/ASK as span events during a live reshard,
 * and nothing secret in any attribute. Shared cluster (the reshard moves a
 * few slots, as the engine's reshard test does).
 */
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { SpanKind, trace, type Span } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ClusterClient, Mutex, SessionStore, slotOf } from '../../../lib/index.js';
import { sharedCluster } from '../../helpers/cluster.js';
import { installOtel, type TestOtel } from '../../helpers/otel.js';
import type { StartedRedisCluster } from '../../../testcontainers/index.js';

const SECRET = 'Sekrit-Value-5c1e0a';

/** Runs `fn` inside an active caller span; returns that span's id. */
async function underCaller(name: string, fn: () => Promise<unknown>): Promise<string> {
  return trace.getTracer('test').startActiveSpan(name, async (span: Span) => {
    try {
      await fn();
    } finally {
      span.end();
    }
    return span.spanContext().spanId;
  });
}

function childrenOf(spans: readonly ReadableSpan[], parentId: string): ReadableSpan[] {
  return spans.filter((s) => s.parentSpanContext?.spanId === parentId);
}

function portOf(client: ClusterClient, key: string): number {
  const shard = client.topology!.shardOf(slotOf(key));
  return shard!.master.port;
}

interface Point { readonly attributes: Record<string, unknown>; readonly value: unknown }

async function points(otel: TestOtel, name: string): Promise<Point[]> {
  const rm = await otel.collect();
  const out: Point[] = [];
  for (const sm of rm.scopeMetrics) for (const m of sm.metrics) if (m.descriptor.name === name) out.push(...(m.dataPoints as Point[]));
  return out;
}

describe('telemetry: OpenTelemetry (integration)', function () {
  let cluster: StartedRedisCluster;
  let otel: TestOtel;
  let client: ClusterClient;

  before(async () => {
    cluster = await sharedCluster();
    otel = installOtel();
    client = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await client.connect();
  });
  after(async () => {
    await client?.quit();
    await otel?.uninstall();
  });

  it('each command is a CLIENT span under the caller\'s span, named and attributed per the database conventions', async () => {
    const key = `otel:{a}:${Date.now()}`;
    const parent = await underCaller('handle-request', async () => {
      await client.set(key, SECRET);
      assert.equal(await client.get(key), SECRET);
      await client.pipeline().get(key).incr(`${key}:n`).get('otel:other').exec();
      await client.multi().incr(`${key}:n`).expire(`${key}:n`, 60).exec();
    });
    const children = childrenOf(otel.spans(), parent);
    assert.deepEqual(children.map((s) => s.name), ['SET', 'GET', 'PIPELINE', 'MULTI']);
    for (const s of children) {
      assert.equal(s.kind, SpanKind.CLIENT, s.name);
      assert.equal(s.attributes['db.system.name'], 'redis');
      assert.equal(s.attributes['db.operation.name'], s.name);
      assert.equal(s.instrumentationScope.name, 'slotwise');
    }
    const [set, get, pipeline, multi] = children as [ReadableSpan, ReadableSpan, ReadableSpan, ReadableSpan];
    for (const s of [set, get]) {
      assert.equal(s.attributes['server.address'], '127.0.0.1');
      assert.equal(s.attributes['server.port'], portOf(client, key), 'the node that owns the key');
      assert.equal(s.status.code, 0, 'unset status on success');
    }
    assert.equal(pipeline.attributes['db.operation.batch.size'], 3);
    assert.equal(multi.attributes['db.operation.batch.size'], 2);
    // A pipeline's entries are covered by the batch span: no span per entry.
    assert.equal(childrenOf(otel.spans(), pipeline.spanContext().spanId).length, 0);
  });

  it('a failed command: error.type and the Redis error prefix, ERROR status', async () => {
    const key = `otel:err:${Date.now()}`;
    await client.set(key, 'x');
    const parent = await underCaller('failing', () => client.lpush(key, 'y').catch(() => undefined));
    const [span] = childrenOf(otel.spans(), parent);
    assert.equal(span?.name, 'LPUSH');
    assert.equal(span.status.code, 2);
    assert.equal(span.attributes['db.response.status_code'], 'WRONGTYPE');
    assert.equal(span.attributes['error.type'], 'ERR_SLOTWISE_REPLY');
  });

  it('metrics agree with the operations run, and client.stats() with the nodes', async () => {
    const key = `otel:m:${Date.now()}`;
    const count = (ps: Point[]) => ps.filter((p) => p.attributes['db.operation.name'] === 'GET' && p.attributes['server.port'] === portOf(client, key))
      .reduce((sum, p) => sum + (p.value as { count: number }).count, 0);
    const before = count(await points(otel, 'db.client.operation.duration'));
    for (let i = 0; i < 25; i++) await client.get(key);
    const after = await points(otel, 'db.client.operation.duration');
    assert.equal(count(after) - before, 25, '25 GETs recorded on that node');
    const get = after.find((p) => p.attributes['db.operation.name'] === 'GET')!;
    assert.equal(get.attributes['db.system.name'], 'redis');
    assert.ok((get.value as { sum: number }).sum > 0, 'durations in seconds, above zero');

    const inFlight = await points(otel, 'slotwise.client.commands.in_flight');
    assert.equal(inFlight[0]?.value, 0, 'nothing in flight between commands');
    const stats = client.stats();
    assert.equal(stats.inFlight, 0);
    assert.equal(stats.nodes.length, 6);
    assert.equal(stats.commands, stats.nodes.reduce((s, n) => s + n.commands, 0));
    assert.ok(stats.topology.refreshes >= 1 && stats.topology.version !== undefined);
  });

  it('a live reshard shows as redis.ask and redis.moved span events', async function () {
    this.timeout(60_000);
    const masters = (await cluster.getNodes()).filter((n) => n.role === 'master');
    const [from, to] = masters as [(typeof masters)[0], (typeof masters)[0]];
    const slots: number[] = [];
    for (const [a, b] of from.slots) for (let s = a; s <= b && slots.length < 2; s++) slots.push(s);
    const keyOf = (slot: number) => {
      for (let i = 0; ; i++) if (slotOf(`otel:r:${i}`) === slot) return `otel:r:${i}`;
    };
    const [askSlot, movedSlot] = slots as [number, number];
    await client.set(keyOf(askSlot), 'a');
    await client.set(keyOf(movedSlot), 'm');
    let askParent: string | undefined;
    await cluster.reshard({
      from: from.port, to: to.port, slots,
      hooks: {
        async afterSlotKeysMigrated(slot) {
          // Mid-migration: the source answers -ASK for a key already moved.
          if (slot === askSlot) askParent = await underCaller('during-migration', () => client.get(keyOf(askSlot)));
        },
      },
    });
    // After the reshard the client's map is stale for movedSlot: -MOVED.
    const movedParent = await underCaller('after-reshard', () => client.get(keyOf(movedSlot)));
    const [askSpan] = childrenOf(otel.spans(), askParent!);
    const [movedSpan] = childrenOf(otel.spans(), movedParent);
    assert.deepEqual(askSpan?.events.map((e) => e.name), ['redis.ask']);
    assert.equal(askSpan.events[0]!.attributes!['slotwise.slot'], askSlot);
    assert.deepEqual(movedSpan?.events.map((e) => e.name), ['redis.moved']);
    assert.equal(movedSpan.events[0]!.attributes!['slotwise.redirect.to'], `127.0.0.1:${to.port}`);
    assert.equal(movedSpan.attributes['server.port'], to.port, 'the span names the node that answered');
    const redirects = await points(otel, 'slotwise.client.redirects');
    assert.ok(redirects.some((p) => p.attributes['slotwise.redirect.kind'] === 'ask' && (p.value as number) >= 1));
    assert.ok(redirects.some((p) => p.attributes['slotwise.redirect.kind'] === 'moved' && (p.value as number) >= 1));
    assert.ok(client.stats().redirects.ask >= 1 && client.stats().redirects.moved >= 1);
  });

  it('a lock: its wait and its hold are spans under the caller\'s span; a failed wait is an error span', async () => {
    const mutex = new Mutex(client, `otel-lock-${Date.now()}`);
    const parent = await underCaller('locked-work', () => mutex.using(async () => {
      await client.get('otel:in-lock');
    }));
    const children = childrenOf(otel.spans(), parent);
    for (const name of ['lock acquire', 'lock hold', 'GET']) assert.equal(children.filter((s) => s.name === name).length, 1, name);
    const acquire = children.find((s) => s.name === 'lock acquire')!;
    assert.ok(childrenOf(otel.spans(), acquire.spanContext().spanId).some((s) => /^EVAL/.test(s.name)), 'the grant script runs under the wait span');
    const hold = children.find((s) => s.name === 'lock hold')!;
    assert.equal(hold.attributes['slotwise.lock.kind'], 'Mutex');
    assert.equal(typeof hold.attributes['slotwise.lock.token'], 'number');

    const held = await mutex.acquire();
    try {
      const busy = await underCaller('busy', () => mutex.acquire({ waitMs: 0 }).catch(() => undefined));
      const [wait] = childrenOf(otel.spans(), busy);
      assert.equal(wait?.name, 'lock acquire');
      assert.equal(wait.attributes['error.type'], 'ERR_SLOTWISE_LOCK_NOT_ACQUIRED');
    } finally {
      await held.release();
    }
  });

  it('session store operations are spans under the caller\'s span, their commands its children; no session id in them', async () => {
    const store = new SessionStore(client, { prefix: `otel-sess-${Date.now()}` });
    let id = '';
    try {
      const parent = await underCaller('request', async () => {
        id = await store.create({ cart: SECRET });
        await store.get(id);
        await store.destroy(id);
      });
      const children = childrenOf(otel.spans(), parent);
      assert.deepEqual(children.map((s) => s.name).sort(), ['session create', 'session destroy', 'session get']);
      for (const s of children) {
        assert.equal(s.kind, SpanKind.INTERNAL);
        assert.ok(childrenOf(otel.spans(), s.spanContext().spanId).length > 0, `${s.name} has its commands as children`);
      }
      const text = inspect(otel.spans().filter((s) => s.name.startsWith('session')).map((s) => [s.name, s.attributes, s.events]), { depth: 10 });
      assert.ok(!text.includes(id) && !text.includes(SECRET), 'no session id or data in a session span');
    } finally {
      await store.close();
    }
  });

  it('no key, value or command argument appears in any span or metric', async () => {
    await underCaller('secret-work', async () => {
      await client.set(`otel:${SECRET}`, SECRET);
      await client.call('ECHO', SECRET);
      await client.pipeline().set(`otel:${SECRET}:p`, SECRET).exec();
    });
    const text = inspect([otel.spans().map((s) => [s.name, s.attributes, s.events, s.status]), await otel.collect()], { depth: 30 });
    assert.ok(!text.includes(SECRET), 'the secret leaked into telemetry');
    assert.ok(!/\b(AUTH|HELLO)\b/.test(otel.spans().map((s) => s.name).join(' ')), 'no span for the handshake');
  });
});
