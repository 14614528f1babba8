/** client().pipeline() on the shared cluster: cross-node batches, ioredis shapes, per-entry errors, order. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { InvalidArgumentError, RedisReplyError, UnknownCommandError, slotOf } from '../../../lib/index.js';
import { sharedClusterClient } from '../../helpers/cluster.js';
import { waitFor } from '../../helpers/wait.js';

describe('pipeline (integration)', function () {
  this.timeout(60_000);
  const client = sharedClusterClient();
  const p = `pl:${randomUUID().slice(0, 8)}`;

  it('runs 1,000 mixed-slot commands on every master and returns [err, result] in the caller\'s order', async () => {
    const keys = Array.from({ length: 50 }, (_, i) => `${p}:n:${i}`);
    assert.equal(new Set(keys.map((k) => client().topology!.shardOf(slotOf(k))!.master.address)).size, 3);
    const model = new Map<string, number>();
    const pipe = client().pipeline();
    const expected: unknown[] = [];
    for (let i = 0; i < 1000; i++) {
      const k = keys[(i * 7919) % keys.length]!;
      if (i % 5 === 4) {
        pipe.get(k);
        expected.push(model.has(k) ? String(model.get(k)) : null);
      } else {
        pipe.incr(k);
        model.set(k, (model.get(k) ?? 0) + 1);
        expected.push(model.get(k));
      }
    }
    assert.equal(pipe.length, 1000);
    const before = client().nodes('master').map((n) => n.stats.commands);
    const results = await pipe.exec();
    assert.deepEqual(results.map(([err]) => err), expected.map(() => null));
    assert.deepEqual(results.map(([, v]) => v), expected);
    const after = client().nodes('master').map((n) => n.stats.commands);
    assert.ok(after.every((n, i) => n > before[i]!), 'every master got its share');
    assert.deepEqual(await client().mget(keys), keys.map((k) => (model.has(k) ? String(model.get(k)) : null)), 'applied exactly once');
  });

  it('surfaces per-entry errors without failing the other entries', async () => {
    const k = `${p}:str`;
    const results = (await client().pipeline()
      .set(k, 'text')
      .incr(k)
      .call('NOSUCHCOMMAND', 'x')
      .get(k)
      .call('MULTI')
      .exec())!; // ioredis' chain type says `| null`; only a WATCH abort gives null, and pipelines have none
    assert.deepEqual(results[0], [null, 'OK']);
    assert.ok(results[1]![0] instanceof RedisReplyError && /not an integer/.test(results[1]![0].message));
    assert.ok(results[2]![0] instanceof UnknownCommandError);
    assert.deepEqual(results[3], [null, 'text']);
    assert.ok(results[4]![0] instanceof InvalidArgumentError, 'connection-state commands are refused per entry');
  });

  it('splits multi-key entries, fans out keyless ones, and keeps ioredis shapes (Buffers, callbacks, batches)', async () => {
    const [a, b, c] = [`${p}:a`, `${p}:b`, `${p}:c`];
    const called: unknown[] = [];
    const results = (await client().pipeline([['mset', a, '1', b, '2', c, '3']])
      .mget(a, b, c, `${p}:none`)
      .mgetBuffer([c, a])
      .exists(a, b, c, a)
      .get(b, (err, v) => called.push([err, v]))
      .dbsize()
      .del(a, b, c)
      .exec())!;
    assert.deepEqual(results.slice(0, 4).map(([, v]) => v), ['OK', ['1', '2', '3', null], [Buffer.from('3'), Buffer.from('1')], 4]);
    assert.deepEqual(results[4], [null, '2']);
    assert.ok(typeof results[5]![1] === 'number' && results[5]![1] >= 3, 'DBSIZE is summed over the masters');
    assert.deepEqual(results[6], [null, 3]);
    await waitFor(() => called.length > 0, { what: 'the GET entry\'s callback', timeoutMs: 5000 });
    assert.deepEqual(called, [[null, '2']]);
    const viaCallback = await new Promise((resolve, reject) => client().pipeline().ping().exec((err, r) => (err ? reject(err) : resolve(r))));
    assert.deepEqual(viaCallback, [[null, 'PONG']]);
  });

  it('runs an empty pipeline, refuses a second exec() and bad batches', async () => {
    assert.deepEqual(await client().pipeline().exec(), []);
    const pipe = client().pipeline().ping();
    await pipe.exec();
    await assert.rejects(pipe.exec(), (e: unknown) => e instanceof InvalidArgumentError && /exec\(\) was already called/.test(e.message));
    assert.throws(() => pipe.ping(), InvalidArgumentError);
    assert.throws(() => client().pipeline([['get', 'x'], 'oops' as never]), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'pipeline commands[1]');
  });
});
