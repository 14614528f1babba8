/** multi() and watch() on the shared cluster: one-slot transactions, conflicts, bad input, lost EXEC. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  ClusterClient,
  ConnectionError,
  CrossSlotError,
  InvalidArgumentError,
  RedisReplyError,
  WatchConflictError,
  slotOf,
} from '../../../lib/index.js';
import { sharedCluster } from '../../helpers/cluster.js';

describe('transactions: multi() and watch() (integration)', function () {
  this.timeout(60_000);
  const clients: ClusterClient[] = [];
  let client: ClusterClient;
  const run = randomUUID().slice(0, 8);
  const tag = (name: string) => `{tx:${run}:${name}}`;

  async function newClient(): Promise<ClusterClient> {
    const cluster = await sharedCluster();
    const c = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    clients.push(c);
    await c.connect();
    return c;
  }

  before(async () => {
    client = await newClient();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.quit()));
  });

  /** Everything a rejected call could have touched: commands written and pooled connections made. */
  const footprint = () => client.nodes('all').map((n) => `${n.stats.commands}/${n.pool.stats.created}/${n.pool.stats.borrowed}`).join(' ');

  it('runs MULTI/EXEC for one slot on a pooled connection and returns [err, result] per command', async () => {
    const k = `${tag('a')}:n`;
    const h = `${tag('a')}:h`;
    const results = (await client.multi().set(k, '5').incr(k).hset(h, { f: 'v' }).hgetall(h).getBuffer(k).exec())!;
    assert.deepEqual(results, [[null, 'OK'], [null, 6], [null, 1], [null, { f: 'v' }], [null, Buffer.from('6')]]);
    const node = client.topology!.shardOf(slotOf(k))!.master.address;
    assert.equal(client.nodes('master').find((n) => n.address === node)!.pool.stats.borrowed, 0, 'the connection went back to the pool');
  });

  it('reports a command failing inside EXEC in its own entry (the others were applied, as in Redis)', async () => {
    const k = `${tag('b')}:s`;
    const results = (await client.multi().set(k, 'text').incr(k).get(k).exec())!;
    assert.deepEqual(results[0], [null, 'OK']);
    assert.ok(results[1]![0] instanceof RedisReplyError && results[1]![0].prefix === 'ERR');
    assert.deepEqual(results[2], [null, 'text']);
  });

  it('rejects a command the server refuses at queue time with EXECABORT, applying nothing', async () => {
    const k = `${tag('c')}:n`;
    await assert.rejects(
      client.multi().set(k, '1').call('GET').exec(),
      (e: unknown) => e instanceof RedisReplyError && e.prefix === 'EXECABORT' && /wrong number of arguments/.test(String((e.cause as Error)?.message)),
    );
    assert.equal(await client.exists(k), 0);
  });

  it('rejects keys of different slots with CrossSlotError before anything is sent or borrowed', async () => {
    const [a, b] = [`xa:${run}`, `xb:${run}`];
    assert.notEqual(slotOf(a), slotOf(b));
    const before = footprint();
    await assert.rejects(client.multi().set(a, '1').set(b, '2').exec(), (e: unknown) => e instanceof CrossSlotError && e.slots.length === 2 && /hash tag/.test(e.message));
    await assert.rejects(client.watch([a, b], async () => 'never'), (e: unknown) => e instanceof CrossSlotError && e.command === 'WATCH');
    await assert.rejects(client.multi().watch(a).exec(), (e: unknown) => e instanceof InvalidArgumentError && /WATCH cannot be queued/.test(e.message));
    assert.equal(footprint(), before, 'nothing was written, no connection borrowed');
    assert.equal(await client.exists(a, b), 0);
  });

  it('keeps every key inside watch() in the watched slot', async () => {
    const k = `${tag('d')}:n`;
    const other = `elsewhere:${run}`;
    await assert.rejects(
      client.watch(k, async (tx) => tx.multi().set(k, '1').set(other, '2').exec()),
      (e: unknown) => e instanceof CrossSlotError,
    );
    await assert.rejects(client.watch(k, async (tx) => tx.get(other)), (e: unknown) => e instanceof CrossSlotError);
    assert.equal(await client.exists(k, other), 0);
  });

  it('WATCH race: two clients, one read-modify-write each per round — exactly one EXEC wins per round', async () => {
    const k = `${tag('race')}:counter`;
    const other = await newClient();
    const rounds = 25;
    let wins = 0;
    let conflicts = 0;
    for (let r = 0; r < rounds; r++) {
      // Both read before either EXECs: a two-party barrier.
      let arrived = 0;
      let release!: () => void;
      const bothRead = new Promise<void>((res) => (release = res));
      const attempt = (c: ClusterClient) => c.watch(k, async (tx) => {
        const v = Number((await tx.get(k)) ?? 0);
        if (++arrived === 2) release();
        await bothRead;
        return tx.multi().set(k, String(v + 1)).exec();
      });
      const outcomes = await Promise.allSettled([attempt(client), attempt(other)]);
      const ok = outcomes.filter((o) => o.status === 'fulfilled').length;
      const lost = outcomes.filter((o) => o.status === 'rejected' && o.reason instanceof WatchConflictError).length;
      assert.equal(ok, 1, `round ${r}: exactly one EXEC succeeded`);
      assert.equal(lost, 1, `round ${r}: the other got WatchConflictError`);
      wins += ok;
      conflicts += lost;
    }
    assert.equal(wins, rounds);
    assert.equal(await client.get(k), String(wins), 'the value equals the number of successful EXECs');
    // With retries, both increments land.
    await Promise.all([client, other].map((c) => c.watch(k, async (tx) => {
      const v = Number(await tx.get(k));
      return tx.multi().set(k, String(v + 1)).exec();
    }, { retries: 10 })));
    assert.equal(await client.get(k), String(rounds + 2));
  });

  it('EXEC whose connection is lost after it was sent: ConnectionError{maybeSent}, applied at most once, never re-sent', async () => {
    const k = `${tag('lost')}:n`;
    // A 300 ms busy script inside the transaction keeps EXEC running while the socket goes away.
    const busy = "local t = redis.call('TIME'); local s = t[1] * 1000000 + t[2]; repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - s > 300000; return 1";
    await assert.rejects(
      client.watch(k, async (tx) => {
        const pending = tx.multi().incr(k).eval(busy, 0).exec();
        setImmediate(() => tx.connection.redis.stream.destroy());
        return pending;
      }),
      (e: unknown) => e instanceof ConnectionError && e.maybeSent === true && /not re-sent/.test(e.message),
    );
    const value = Number(await client.get(k) ?? 0);
    assert.ok(value <= 1, `applied at most once (value ${value})`);
    // The WATCH connection is closed, not returned to the pool.
    const node = client.nodes('master').find((n) => n.address === client.topology!.shardOf(slotOf(k))!.master.address)!;
    assert.equal(node.pool.stats.borrowed, 0);
  });

  it('a connection lost before EXEC fails the watch() with ConnectionError and applies nothing', async () => {
    const k = `${tag('gone')}:n`;
    await assert.rejects(
      client.watch(k, async (tx) => {
        await tx.get(k);
        const ended = new Promise((r) => tx.connection.redis.once('end', r));
        tx.connection.redis.disconnect();
        await ended;
        return tx.multi().incr(k).exec();
      }),
      (e: unknown) => e instanceof ConnectionError && e.maybeSent === false,
    );
    assert.equal(await client.exists(k), 0);
  });

  it('validates watch() arguments', async () => {
    await assert.rejects(client.watch([], async () => 1), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'watch keys');
    await assert.rejects(client.watch('k', 'nope' as never), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'watch callback');
    await assert.rejects(client.watch('k', async () => 1, { retries: -1 }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'retries');
    assert.throws(() => client.multi({ pipeline: false }), InvalidArgumentError);
  });
});
