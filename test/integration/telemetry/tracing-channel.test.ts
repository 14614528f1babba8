/**
 * The TracingChannels (`tracing:slotwise:command|batch|refresh:*`): events
 * in order, the caller's async context bound through `start` reaching the
 * settle events (what an APM relies on), payloads without user data, and the
 * plain `slotwise:command` channel still published. Shared cluster.
 */
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';
import { inspect } from 'node:util';
import { ClusterClient, tracingChannels, type CommandTraceContext } from '../../../lib/index.js';
import { sharedCluster } from '../../helpers/cluster.js';

const SECRET = 'Tc-Secret-91b4';
type Events = Array<[string, unknown]>;

function record(tc: diagnostics.TracingChannel<unknown, object>, events: Events): () => void {
  const handlers = {
    start: (m: unknown) => events.push(['start', { ...(m as object) }]),
    end: (m: unknown) => events.push(['end', { ...(m as object) }]),
    asyncStart: (m: unknown) => events.push(['asyncStart', { ...(m as object) }]),
    asyncEnd: (m: unknown) => events.push(['asyncEnd', { ...(m as object) }]),
    error: (m: unknown) => events.push(['error', { ...(m as object) }]),
  };
  tc.subscribe(handlers);
  return () => tc.unsubscribe(handlers);
}

describe('telemetry: TracingChannel (integration)', function () {
  let client: ClusterClient;
  before(async () => {
    const cluster = await sharedCluster();
    client = new ClusterClient({ rootNodes: cluster.getRootNodes() });
  });
  after(async () => {
    await client?.quit();
  });

  it('a topology refresh publishes start … asyncEnd with its reason', async () => {
    const events: Events = [];
    const off = record(tracingChannels.refresh, events);
    try {
      await client.connect();
    } finally {
      off();
    }
    assert.deepEqual(events.map(([e]) => e), ['start', 'end', 'asyncStart', 'asyncEnd']);
    assert.equal((events[0]![1] as { reason: string }).reason, 'connect');
  });

  it('a command publishes start/end/asyncStart/asyncEnd (error on failure) with its node and attempts', async () => {
    const key = `tc:${Date.now()}`;
    const events: Events = [];
    const off = record(tracingChannels.command, events);
    try {
      await client.set(key, SECRET);
      await client.lpush(key, SECRET).catch(() => undefined);
    } finally {
      off();
    }
    assert.deepEqual(events.map(([e]) => e), ['start', 'end', 'asyncStart', 'asyncEnd', 'start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    const done = events[3]![1] as CommandTraceContext;
    assert.equal(done.command, 'SET');
    assert.equal(done.attempts, 1);
    assert.match(done.address!, /^127\.0\.0\.1:\d+$/);
    assert.equal((events[6]![1] as CommandTraceContext).command, 'LPUSH');
    assert.ok(!inspect(events, { depth: 10 }).includes(SECRET), 'no value in any payload');
  });

  it('a store bound to start is the async context of the settle events (the caller\'s context reaches the APM)', async () => {
    const als = new AsyncLocalStorage<string>();
    tracingChannels.command.start.bindStore(als, (ctx) => `request-of-${ctx.command}`);
    const seen: Array<string | undefined> = [];
    const onEnd = () => seen.push(als.getStore());
    tracingChannels.command.asyncEnd.subscribe(onEnd);
    try {
      await client.get(`tc:ctx:${Date.now()}`);
    } finally {
      tracingChannels.command.asyncEnd.unsubscribe(onEnd);
      tracingChannels.command.start.unbindStore(als);
    }
    assert.deepEqual(seen, ['request-of-GET']);
  });

  it('a pipeline is one batch with its size; the plain slotwise:command channel still sees every entry', async () => {
    const events: Events = [];
    const off = record(tracingChannels.batch, events);
    const plain: unknown[] = [];
    const onPlain = (m: unknown) => plain.push(m);
    diagnostics.subscribe('slotwise:command', onPlain);
    try {
      await client.pipeline().set('tc:a', 1).get('tc:b').incr('tc:c').exec();
    } finally {
      off();
      diagnostics.unsubscribe('slotwise:command', onPlain);
    }
    assert.deepEqual(events.map(([e]) => e), ['start', 'end', 'asyncStart', 'asyncEnd']);
    assert.deepEqual(events[0]![1], { kind: 'pipeline', size: 3 });
    assert.equal(plain.length, 3);
  });
});
