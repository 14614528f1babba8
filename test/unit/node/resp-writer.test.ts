import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { Command } from 'ioredis';
import { flatArgs } from '../../../lib/node/outgoing.js';
import { RespWriter } from '../../../lib/node/resp-writer.js';

/** ioredis' own bytes for a command: what the batched write path must reproduce. */
function ioredisBytes(name: string, args: (string | Buffer | number)[]): { cmd: Command; bytes: Buffer } {
  const cmd = new Command(name, args);
  cmd.promise.catch(() => undefined);
  const w = cmd.toWritable(undefined as never);
  return { cmd, bytes: typeof w === 'string' ? Buffer.from(w) : w };
}

const arg = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constant(''),
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  fc.constant(Buffer.alloc(0)),
  fc.integer(),
  fc.double({ noNaN: false }),
  // Large values (beyond a 64 KiB chunk), built cheaply.
  fc.tuple(fc.constantFrom('x', 'é', '€', '😀'), fc.integer({ min: 30_000, max: 70_000 })).map(([c, n]) => c.repeat(n)),
);
const name = fc.constantFrom('get', 'set', 'mset', 'hset', 'zadd', 'eval', 'x'.repeat(3), 'ÄBC');

describe('RespWriter', () => {
  it('encodes every command byte for byte as ioredis does (strings, Buffers, numbers, UTF-8, empty and large values)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(name, fc.array(arg, { maxLength: 20 })), { minLength: 1, maxLength: 8 }), (cmds) => {
        const w = new RespWriter();
        const expected: Buffer[] = [];
        for (const [n, a] of cmds) {
          const { cmd, bytes } = ioredisBytes(n, a);
          expected.push(bytes);
          w.append(cmd.name, cmd.args);
        }
        assert.deepEqual(w.take(), Buffer.concat(expected));
        assert.equal(w.pending, 0);
      }),
      { numRuns: 200 },
    );
  });

  it('flatArgs: arrays spread one level (`mget([a, b])`) and numbers give ioredis\' bytes', () => {
    const plainArg = fc.oneof(fc.string({ maxLength: 12 }), fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)), fc.integer(), fc.double());
    const input = fc.oneof(plainArg, fc.array(plainArg, { maxLength: 6 }));
    fc.assert(
      // Not MSET/HSET: ioredis turns a lone Buffer there into an object's entries (a quirk of its argument transformer), slotwise sends it as is.
      fc.property(fc.constantFrom('mget', 'del', 'sadd', 'rpush', 'get'), fc.array(input, { maxLength: 5 }), (n, a) => {
        const { bytes } = ioredisBytes(n, a as (string | Buffer | number)[]);
        const w = new RespWriter();
        w.append(n, flatArgs(n, a));
        assert.deepEqual(w.take(), bytes);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps the bytes of earlier takes intact while later commands are written (views are never overwritten)', () => {
    const w = new RespWriter();
    const taken: Buffer[] = [];
    const want: Buffer[] = [];
    for (let i = 0; i < 3000; i++) {
      const { cmd, bytes } = ioredisBytes('set', [`k${i}`, 'v'.repeat(i % 500) + i]);
      w.append(cmd.name, cmd.args);
      want.push(bytes);
      if (i % 7 === 0) taken.push(w.take());
    }
    taken.push(w.take());
    assert.deepEqual(Buffer.concat(taken), Buffer.concat(want));
  });

  it('drops only the failing command: a throwing argument leaves no byte of it, the batch around it intact', () => {
    const w = new RespWriter();
    w.append('set', ['a', '1']);
    const evil = { toString() { throw new Error('boom'); } };
    assert.throws(() => w.append('set', ['b', 'x'.repeat(100_000), evil]), /argument 2 is an object/);
    assert.throws(() => w.append('get', [Symbol('c')], true), /argument 0 is a symbol/);
    w.append('get', ['d'], true);
    assert.equal(
      w.take().toString(),
      '*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n' + '*1\r\n$6\r\nasking\r\n' + '*2\r\n$3\r\nget\r\n$1\r\nd\r\n',
    );
  });
});
