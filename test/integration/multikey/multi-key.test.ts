/** Cross-slot MGET/MSET/DEL/UNLINK/EXISTS/TOUCH on the shared cluster, against a reference model. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { CrossSlotError, InvalidArgumentError, slotOf } from '../../../lib/index.js';
import { sharedClusterClient } from '../../helpers/cluster.js';

describe('multi-key commands across slots (integration)', function () {
  this.timeout(120_000);
  const client = sharedClusterClient();
  const run = randomUUID().slice(0, 8);

  /** Sum of commands written to every node so far. */
  const written = () => client().nodes('all').reduce((n, node) => n + node.stats.commands, 0);

  it('property: 1,000-key MSET/MGET/EXISTS/TOUCH/DEL/UNLINK over every master equal a reference model', async () => {
    let round = 0;
    // Names from a pool smaller than the batch: duplicates are certain; a third carry hash tags.
    const name = fc.oneof(
      fc.nat({ max: 699 }).map((i) => `k${i}`),
      fc.tuple(fc.nat({ max: 9 }), fc.nat({ max: 29 })).map(([t, i]) => `{t${t}}k${i}`),
    );
    await fc.assert(fc.asyncProperty(
      fc.array(fc.tuple(name, fc.string({ maxLength: 8 })), { minLength: 1000, maxLength: 1000 }),
      fc.array(name, { minLength: 1000, maxLength: 1000 }),
      fc.array(name, { minLength: 1, maxLength: 1000 }),
      async (pairs, reads, dels) => {
        const p = `mk:${run}:${round++}:`;
        const ref = new Map<string, string>();
        for (const [k, v] of pairs) ref.set(p + k, v);
        const masters = new Set(pairs.map(([k]) => client().topology!.shardOf(slotOf(p + k))!.master.address));
        assert.equal(masters.size, 3, 'keys on every master');

        assert.equal(await client().mset(pairs.flatMap(([k, v]) => [p + k, v])), 'OK');
        assert.deepEqual(await client().mget(reads.map((k) => p + k)), reads.map((k) => ref.get(p + k) ?? null));
        const present = reads.filter((k) => ref.has(p + k)).length;
        assert.equal(await client().exists(reads.map((k) => p + k)), present, 'EXISTS counts duplicates like Redis');
        assert.equal(await client().touch(...reads.map((k) => p + k)), present);
        const delKeys = dels.map((k) => p + k);
        assert.equal(await client().del(delKeys), new Set(delKeys.filter((k) => ref.has(k))).size);
        for (const k of delKeys) ref.delete(k);
        assert.deepEqual(await client().mget(reads.map((k) => p + k)), reads.map((k) => ref.get(p + k) ?? null));
        assert.equal(await client().unlink([...ref.keys()]), ref.size);
        assert.equal(await client().exists([...new Set(pairs.map(([k]) => p + k))]), 0);
      },
    ), { numRuns: 4 });
  });

  it('keeps every ioredis call shape: varargs, arrays, objects, Buffers, callbacks, call() and send()', async () => {
    const k = (i: number) => `shape:${run}:${i}`;
    assert.equal(await client().mset({ [k(1)]: 'a', [k(2)]: 'b', [k(3)]: 'c' }), 'OK');
    assert.equal(await client().mset(new Map([[k(4), 'd']])), 'OK');
    assert.deepEqual(await client().mget(k(1), k(2), k(9)), ['a', 'b', null]);
    assert.deepEqual(await client().mgetBuffer([k(3), k(4)]), [Buffer.from('c'), Buffer.from('d')]);
    assert.deepEqual(await client().call('MGET', k(4), k(1)), ['d', 'a']);
    assert.deepEqual(await client().call('mget', [k(2), k(3)]), ['b', 'c']);
    assert.deepEqual(await client().send('MGET', [k(1), k(4)], { buffer: true }), [Buffer.from('a'), Buffer.from('d')]);
    const viaCallback = await new Promise((resolve, reject) => client().mget([k(1), k(3)], (err, v) => (err ? reject(err) : resolve(v))));
    assert.deepEqual(viaCallback, ['a', 'c']);
    assert.equal(await client().exists(k(1), k(1), k(2)), 3);
    assert.equal(await client().unlink(k(1), k(2), k(3), k(4)), 4);
  });

  it('sends a single-slot multi-key command whole (atomic) and reports server errors per call', async () => {
    const before = written();
    assert.equal(await client().mset(`{one:${run}}a`, '1', `{one:${run}}b`, '2'), 'OK');
    assert.equal(written() - before, 1, 'one command, not one per key');
    await assert.rejects(client().call('MSET', `x:${run}`, '1', `y:${run}`), (e: unknown) => e instanceof InvalidArgumentError && /MSET expects key\/value pairs.*got 3 arguments/.test(e.message));
    await assert.rejects(client().call('MGET'), (e: unknown) => e instanceof InvalidArgumentError && /MGET expects one or more keys/.test(e.message));
    assert.equal(written() - before, 1, 'nothing sent for malformed input');
    await client().del(`{one:${run}}a`, `{one:${run}}b`);
  });

  it('never splits MSETNX: keys across slots fail with CrossSlotError before anything is sent', async () => {
    const before = written();
    await assert.rejects(
      client().msetnx(`nx:${run}:a`, '1', `nx:${run}:b`, '2'),
      (e: unknown) => e instanceof CrossSlotError && e.slots.length === 2 && /hash tag/.test(e.message),
    );
    assert.equal(written(), before, 'no byte was sent');
    assert.equal(await client().exists(`nx:${run}:a`, `nx:${run}:b`), 0);
  });
});
