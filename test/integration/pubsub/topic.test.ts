/** Topic: typed broadcast over sharded pub/sub, on the shared cluster. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ClusterClient, InvalidArgumentError, MessageDecodeError, Topic, type Serializer } from '../../../lib/index.js';
import { sharedCluster } from '../../helpers/cluster.js';
import { waitFor } from '../../helpers/wait.js';

describe('Topic (integration)', function () {
  this.timeout(30_000);
  let client: ClusterClient;
  let other: ClusterClient;
  const name = `orders-${randomUUID().slice(0, 8)}`;

  before(async () => {
    const cluster = await sharedCluster();
    client = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    other = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await Promise.all([client.connect(), other.connect()]);
  });
  after(async () => {
    await client?.quit();
    await other?.quit();
  });

  it('broadcasts JSON messages to every subscriber, in every client', async () => {
    const orders = new Topic<{ id: string; total: number }>(client, name);
    const a: { id: string; total: number }[] = [];
    const b: { id: string; total: number }[] = [];
    const s1 = await orders.subscribe((o) => void a.push(o));
    const s2 = await new Topic<{ id: string; total: number }>(other, name).subscribe((o) => void b.push(o));
    assert.equal(await orders.publish({ id: 'o-1', total: 42 }), 2, 'two subscriber connections received it');
    await waitFor(() => a.length === 1 && b.length === 1, { what: 'both subscribers' });
    assert.deepEqual(a, [{ id: 'o-1', total: 42 }]);
    assert.deepEqual(b, a);
    await s1.unsubscribe();
    await s2.unsubscribe();
  });

  it('iterates messages with for await, and uses a custom serializer', async () => {
    const upper: Serializer<string> = { serialize: (s) => s.toUpperCase(), deserialize: (t) => t.toLowerCase() };
    const t = new Topic<string>(client, `${name}:custom`, { serializer: upper });
    const it = t.iterator();
    await it.ready;
    await t.publish('Hello');
    await t.publish('World');
    const got: string[] = [];
    for await (const m of it) {
      got.push(m);
      if (got.length === 2) break;
    }
    assert.deepEqual(got, ['hello', 'world']);
    assert.equal(await t.publish('x'), 0, 'breaking out unsubscribed');
  });

  it('rejects non-serializable messages and bad options; nothing is published', async () => {
    const t = new Topic(client, `${name}:bad`);
    let received = 0;
    const sub = await t.subscribe(() => void received++);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const [value, why] of [
      [undefined, /value is undefined/],
      [{ n: 10n }, /value\.n is a BigInt/],
      [{ f: () => 1 }, /value\.f is a function/],
      [[1, NaN], /value\[1\] is NaN/],
      [new Map([[1, 2]]), /Map, which JSON turns into \{\}/],
      [cyclic, /circular/],
    ] as const) {
      await assert.rejects(t.publish(value), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'message' && why.test(e.message));
    }
    assert.equal(await t.publish({ ok: true }), 1);
    await waitFor(() => received === 1, { what: 'the one valid message' });
    await sub.unsubscribe();
    assert.throws(() => new Topic(client, ''), InvalidArgumentError);
    assert.throws(() => new Topic(client, 'x', { serialiser: {} } as never), /unknown topic option/);
    assert.throws(() => new Topic(client, 'x', { serializer: { serialize: 1 } as never }), InvalidArgumentError);
    await assert.rejects(t.subscribe('no' as never), InvalidArgumentError);
  });

  it('reports a message its serializer cannot decode as MessageDecodeError', async () => {
    const t = new Topic(client, `${name}:decode`);
    const errors: Error[] = [];
    client.subscriber.on('error', (e) => void errors.push(e));
    const sub = await t.subscribe(() => undefined);
    await client.spublish(t.channel, '{not json');
    await waitFor(() => errors.length === 1, { what: 'the decode error' });
    assert.ok(errors[0] instanceof MessageDecodeError);
    await sub.unsubscribe();
  });
});
