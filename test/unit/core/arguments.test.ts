/** The boundary argument check (lib/core/arguments.ts), pure. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { announcedKeysFit, commandProblem, describeInput, execOptionsProblem } from '../../../lib/core/arguments.js';
import { InvalidArgumentError } from '../../../lib/errors.js';

describe('argument check at the boundary (unit)', () => {
  it('accepts strings, Buffers, finite numbers, bigints, one-level arrays and the ioredis object forms', () => {
    const ok: [string, unknown[]][] = [
      ['set', ['k', 'v']],
      ['set', [Buffer.from('k'), 1.5]],
      ['incrby', ['k', 10n]],
      ['mget', [['a', 'b'], 'c']],
      ['mset', [{ a: 1, b: 'x' }]],
      ['mset', [new Map([['a', 1]])]],
      ['hset', ['h', { f: Buffer.from('v') }]],
      ['hmset', [['h', new Map([['f', 'v']])]]],
    ];
    for (const [name, args] of ok) assert.equal(commandProblem(name, args), undefined, `${name} ${String(args)}`);
  });

  it('names the command, the position and what was given', () => {
    const cases: [string, unknown[], RegExp][] = [
      ['set', ['k', undefined], /Invalid SET argument 2: .*got undefined/],
      ['get', [null], /GET argument 1: .*got null/],
      ['mget', [['a', Symbol('s')]], /MGET argument 1\[1\]: .*a symbol/],
      ['set', ['k', { toString: () => 'x' }], /SET argument 2: .*plain object/],
      ['set', ['k', new Uint8Array(2)], /Uint8Array/],
      ['set', ['k', Object.create(Buffer.prototype)], /unusable Buffer/],
      ['set', ['k', Number.NaN], /NaN/],
      ['mget', [[['nested']]], /flattened one level/],
      ['hset', ['h', { f: {} }], /HSET argument 2\.f/],
      ['xadd', ['s', '*', { f: 'v' }], /XADD argument 3/],
      ['mset', [{ a: 1 }, 'b'], /MSET argument 1/],
    ];
    for (const [name, args, re] of cases) {
      const p = commandProblem(name, args);
      assert.ok(p instanceof InvalidArgumentError, `${name}: ${String(p)}`);
      assert.equal(p.command, name.toUpperCase());
      assert.match(p.message, re);
    }
    assert.match(String(commandProblem(undefined, [])), /command name/);
    assert.match(String(commandProblem('get', 'k' as unknown as unknown[])), /GET arguments/);
  });

  it('never throws, whatever it is given (property)', () => {
    const hostile = fc.oneof(
      fc.anything(),
      fc.constant(new Proxy({}, { getPrototypeOf() { throw new Error('trap'); }, ownKeys() { throw new Error('trap'); } })),
      fc.constant(Object.defineProperty([], 0, { get() { throw new Error('getter'); }, enumerable: true })),
    );
    fc.assert(
      fc.property(fc.anything(), fc.array(hostile, { maxLength: 4 }), (name, args) => {
        const p = commandProblem(typeof name === 'string' ? name : 'set', args);
        assert.ok(p === undefined || p instanceof InvalidArgumentError);
        assert.equal(typeof describeInput(args[0]), 'string');
        const o = execOptionsProblem(args[0]);
        assert.ok(o === undefined || o instanceof InvalidArgumentError);
      }),
      { numRuns: 2000 },
    );
  });

  it('a numkeys argument beyond the arguments given has no key positions', () => {
    assert.equal(announcedKeysFit('zunion', [2 ** 53, 'k']), false);
    assert.equal(announcedKeysFit('eval', ['return 1', 'x', 'k']), false);
    assert.equal(announcedKeysFit('eval', ['return 1', 1, 'k']), true);
    assert.equal(announcedKeysFit('get', ['k']), true);
  });
});
