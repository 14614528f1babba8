/** Pub/sub on the shared cluster: sharded, classic and pattern subscriptions, iterators, bad input, lifecycle. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ClusterClient, InvalidArgumentError, ClientClosedError, slotOf, type GapEvent, type PubSubMessage } from '../../../lib/index.js';
import { rawConnection, sharedCluster } from '../../helpers/cluster.js';
import { waitFor } from '../../helpers/wait.js';

async function newClient(extra: Partial<ConstructorParameters<typeof ClusterClient>[0]> = {}): Promise<ClusterClient> {
  const cluster = await sharedCluster();
  const c = new ClusterClient({ rootNodes: cluster.getRootNodes(), ...extra });
  await c.connect();
  return c;
}

/** Connection names of every client connected to any node of the shared cluster. */
async function connectionNames(): Promise<string[]> {
  const cluster = await sharedCluster();
  const names: string[] = [];
  for (const port of cluster.getPorts()) {
    const r = rawConnection(port, cluster);
    await r.connect();
    const list = String(await r.call('CLIENT', 'LIST'));
    await r.quit();
    for (const line of list.split('\n')) {
      const m = /name=(\S*)/.exec(line);
      if (m?.[1]) names.push(m[1]);
    }
  }
  return names;
}

describe('pub/sub (integration)', function () {
  this.timeout(30_000);
  let client: ClusterClient;
  const prefix = `ps-${randomUUID().slice(0, 8)}`;

  before(async () => {
    client = await newClient();
  });
  after(async () => {
    await client?.quit();
  });

  it('ssubscribe receives SPUBLISH on channels spread over every master, one connection per node', async () => {
    const channels = Array.from({ length: 30 }, (_, i) => `${prefix}:s:${i}`);
    const owners = new Set(channels.map((c) => client.topology!.shardOf(slotOf(c))!.master.address));
    assert.equal(owners.size, 3, 'channels spread over the 3 masters');
    const got: string[] = [];
    const sub = await client.ssubscribe(channels, (message, channel) => {
      got.push(`${channel}=${message}`);
    });
    for (const c of channels) assert.equal(await client.spublish(c, 'hi'), 1, `${c} has exactly one subscriber`);
    await waitFor(() => got.length === channels.length, { what: 'every message' });
    assert.deepEqual(got.sort(), channels.map((c) => `${c}=hi`).sort());
    assert.equal((await connectionNames()).filter((n) => n === 'slotwise:subscriber').length, 3);
    await sub.unsubscribe();
    for (const c of channels) assert.equal(await client.spublish(c, 'after'), 0, 'unsubscribed on the server');
    await waitFor(async () => (await connectionNames()).filter((n) => n === 'slotwise:subscriber').length === 0, { what: 'subscriber connections closed' });
  });

  it('two subscriptions to one channel share the server subscription and each gets every message once', async () => {
    const ch = `${prefix}:shared`;
    const a: string[] = [];
    const b: string[] = [];
    const s1 = await client.ssubscribe(ch, (m) => void a.push(m));
    const s2 = await client.ssubscribe([ch, ch], (m) => void b.push(m));
    assert.deepEqual(s2.channels, [ch], 'duplicates removed');
    assert.equal(await client.spublish(ch, '1'), 1, 'one server subscription');
    await waitFor(() => a.length === 1 && b.length === 1, { what: 'both handlers' });
    await s1.unsubscribe();
    assert.equal(await client.spublish(ch, '2'), 1, 'still subscribed for s2');
    await waitFor(() => b.length === 2, { what: 'second message' });
    assert.deepEqual(a, ['1']);
    await s2.unsubscribe();
    assert.equal(await client.spublish(ch, '3'), 0);
  });

  it('ssubscribeIterator yields messages in order and unsubscribes when the loop ends', async () => {
    const ch = `${prefix}:iter`;
    const it = client.ssubscribeIterator(ch);
    await it.ready;
    for (let i = 0; i < 5; i++) await client.spublish(ch, String(i));
    const seen: PubSubMessage[] = [];
    for await (const msg of it) {
      seen.push(msg);
      if (seen.length === 5) break;
    }
    assert.deepEqual(seen.map((m) => m.message), ['0', '1', '2', '3', '4']);
    assert.equal(seen[0]!.channel, ch);
    assert.equal(await client.spublish(ch, 'x'), 0, 'break unsubscribed');
  });

  it('classic subscribe and psubscribe receive PUBLISH from any node', async () => {
    const ch = `${prefix}:news.sport`;
    const plain: string[] = [];
    const pattern: string[] = [];
    const s1 = await client.subscribe(ch, (m, c) => void plain.push(`${c}:${m}`));
    const s2 = await client.psubscribe(`${prefix}:news.*`, (m, c, p) => void pattern.push(`${p}|${c}:${m}`));
    // PUBLISH from a client connected to every node in turn: the cluster bus broadcasts it.
    const cluster = await sharedCluster();
    for (const port of cluster.getPorts()) {
      const r = rawConnection(port, cluster);
      await r.connect();
      await r.publish(ch, String(port));
      await r.quit();
    }
    await waitFor(() => plain.length === 6 && pattern.length === 6, { what: 'messages from all 6 nodes' });
    assert.ok(pattern.every((p) => p.startsWith(`${prefix}:news.*|${ch}:`)));
    const it = client.subscribeIterator(`${prefix}:it`);
    await it.ready;
    await client.publish(`${prefix}:it`, 'hello');
    assert.deepEqual((await it.next()).value, { channel: `${prefix}:it`, message: 'hello' });
    await it.return();
    await s1.unsubscribe();
    await s2.unsubscribe();
  });

  it('works over RESP2 connections too', async () => {
    const c2 = await newClient({ protocol: 2 });
    try {
      const got: string[] = [];
      const ch = `${prefix}:resp2`;
      await c2.ssubscribe(ch, (m) => void got.push(m));
      await c2.subscribe(`${prefix}:resp2c`, (m) => void got.push(m));
      await c2.spublish(ch, 'a');
      await c2.publish(`${prefix}:resp2c`, 'b');
      await waitFor(() => got.length === 2, { what: 'RESP2 messages' });
      assert.deepEqual(got.sort(), ['a', 'b']);
    } finally {
      await c2.quit();
    }
  });

  it('reports handler errors (and non-Error throws) on the error event without breaking the subscription', async () => {
    const ch = `${prefix}:throws`;
    const errors: Error[] = [];
    const onError = (e: Error) => void errors.push(e);
    client.subscriber.on('error', onError);
    let n = 0;
    const sub = await client.ssubscribe(ch, (m) => {
      n++;
      if (m === 'boom') throw new Error('boom');
      if (m === 'string') throw 'not an error'; // eslint-disable-line no-throw-literal
      if (m === 'reject') return Promise.reject(new Error('rejected'));
    });
    for (const m of ['boom', 'string', 'reject', 'ok']) await client.spublish(ch, m);
    await waitFor(() => n === 4 && errors.length === 3, { what: 'four deliveries, three errors' });
    assert.deepEqual(errors.map((e) => e.message), ['boom', 'Non-Error thrown by a message handler: not an error', 'rejected']);
    client.subscriber.off('error', onError);
    await sub.unsubscribe();
  });

  it('rejects bad input with InvalidArgumentError and subscribes nothing', async () => {
    const ch = `${prefix}:bad`;
    await assert.rejects(client.ssubscribe([], () => undefined), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'channels');
    await assert.rejects(client.ssubscribe([ch, ''], () => undefined), InvalidArgumentError);
    await assert.rejects(client.ssubscribe(ch, 'nope' as never), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'handler');
    await assert.rejects(client.psubscribe(42 as never, () => undefined), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'patterns');
    assert.throws(() => client.ssubscribeIterator(ch, { bufferSize: 0 }), InvalidArgumentError);
    assert.throws(() => client.ssubscribeIterator(ch, { size: 3 } as never), /unknown iterator option/);
    await assert.rejects(client.keyspaceEvents({ events: ['Expired!'] }, () => undefined), InvalidArgumentError);
    await assert.rejects(client.keyspaceEvents({ wat: 1 } as never, () => undefined), /unknown keyspace option/);
    await assert.rejects(client.keyspaceEvents({ keyPattern: 'a*' }, () => undefined), /only applies with channel: 'keyspace'/);
    assert.equal(await client.spublish(ch, 'x'), 0, 'nothing subscribed');
    // The raw command path still refuses to put the shared connection in subscriber mode.
    await assert.rejects(client.call('SUBSCRIBE', ch), InvalidArgumentError);
  });

  it('quit() closes subscriber connections; subscribing afterwards fails with ClientClosedError', async () => {
    const c = await newClient({ connectionName: 'pstest-quit' });
    await c.ssubscribe(`${prefix}:q1`, () => undefined);
    await c.subscribe(`${prefix}:q2`, () => undefined);
    assert.ok((await connectionNames()).includes('pstest-quit:subscriber'));
    await c.quit();
    assert.ok(!(await connectionNames()).some((n) => n.startsWith('pstest-quit')), 'every connection closed');
    await assert.rejects(c.ssubscribe(`${prefix}:q1`, () => undefined), ClientClosedError);
    const d = await newClient({ connectionName: 'pstest-disc' });
    await d.ssubscribe(`${prefix}:d1`, () => undefined);
    await d.disconnect();
    assert.ok(!(await connectionNames()).some((n) => n.startsWith('pstest-disc')));
  });

  it('a subscription that is never interrupted reports no gap', async () => {
    const gaps: GapEvent[] = [];
    const sub = await client.ssubscribe(`${prefix}:nogap`, () => undefined);
    sub.on('gap', (g) => void gaps.push(g));
    await client.spublish(`${prefix}:nogap`, 'x');
    await sub.unsubscribe();
    assert.deepEqual(gaps, []);
  });
});
