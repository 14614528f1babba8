import assert from 'node:assert/strict';
import fc from 'fast-check';
import { slotOf } from '../../../lib/index.js';
import { isSplittable, mergeSplit, planSplit, type SplitPlan } from '../../../lib/router/split.js';
import { fanOutPolicy, mayFanOut, reduceOutcomes } from '../../../lib/router/fanout.js';

/** Keys from a small alphabet, with and without hash tags, so slots collide and duplicates happen. */
const key = fc.oneof(
  fc.stringMatching(/^[a-e]{1,3}$/),
  fc.tuple(fc.constantFrom('u1', 'u2', ''), fc.stringMatching(/^[a-c]{0,2}$/)).map(([tag, rest]) => `{${tag}}${rest}`),
);

/** Runs a plan against an in-memory reference of one Redis node per slot. */
function runParts(plan: SplitPlan, reply: (args: readonly unknown[], slot: number) => unknown): unknown {
  // A single-key MGET part is sent as GET: its reply is the value, not a one-element array.
  return mergeSplit(plan, plan.parts.map((p) => (p.command === 'get' ? (reply(p.args, p.slot) as unknown[])[0] : reply(p.args, p.slot))));
}

describe('multi-key split and merge (unit)', () => {
  it('splits exactly the multi_shard commands whose arguments are key groups', () => {
    for (const c of ['mget', 'mset', 'del', 'unlink', 'exists', 'touch']) assert.ok(isSplittable(c), c);
    for (const c of ['msetnx', 'msetex', 'get', 'eval', 'rename', 'sunionstore', 'dbsize']) assert.ok(!isSplittable(c), c);
  });

  it('sends single-slot and malformed commands whole (a single slot is handed on, so the keys are hashed once)', () => {
    assert.equal(planSplit('mget', ['{t}a', '{t}b', '{t}c']), slotOf('t'));
    assert.equal(planSplit('mset', ['{t}a', '1', '{t}b', '2']), slotOf('t'));
    assert.equal(planSplit('mset', ['a', '1', 'b']), undefined, 'odd MSET arity: the server reports it');
    assert.equal(planSplit('del', []), undefined);
    assert.equal(planSplit('get', ['a', 'b']), undefined);
  });

  it('property: every part holds keys of one slot, and parts together hold every key group once, in order', () => {
    fc.assert(fc.property(fc.array(key, { minLength: 1, maxLength: 40 }), (keys) => {
      const plan = planSplit('mget', keys);
      const slots = new Set(keys.map((k) => slotOf(k)));
      if (slots.size === 1) return assert.equal(plan, slotOf(keys[0]!));
      assert.ok(plan !== undefined && typeof plan !== 'number');
      assert.equal(plan.parts.length, slots.size);
      const seen: number[] = [];
      for (const part of plan.parts) {
        assert.equal(new Set(part.args.map((k) => slotOf(k as string))).size, 1);
        assert.deepEqual(part.args, part.groups.map((g) => keys[g]));
        assert.deepEqual(part.groups, [...part.groups].sort((a, b) => a - b), 'caller order within a part');
        assert.equal(part.command, part.groups.length === 1 ? 'get' : 'mget');
        seen.push(...part.groups);
      }
      assert.deepEqual(seen.sort((a, b) => a - b), keys.map((_, i) => i));
    }));
  });

  it('property: split MGET/MSET/DEL/EXISTS equal a single reference store', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(key, fc.string({ maxLength: 3 })), { minLength: 1, maxLength: 30 }),
      fc.array(key, { minLength: 1, maxLength: 30 }),
      fc.array(key, { minLength: 1, maxLength: 30 }),
      (pairs, reads, dels) => {
        // Reference: one store, commands applied whole.
        const ref = new Map<string, string>();
        for (const [k, v] of pairs) ref.set(k, v);
        const refMget = reads.map((k) => ref.get(k) ?? null);
        const refExists = reads.filter((k) => ref.has(k)).length;
        const refDel = new Set(dels.filter((k) => ref.has(k))).size;
        // Split: the same store, but each part only ever sees keys of its slot.
        const store = new Map<string, string>();
        const run = (name: string, args: readonly unknown[], apply: (a: readonly unknown[]) => unknown) => {
          const plan = planSplit(name, args);
          return plan === undefined || typeof plan === 'number' ? apply(args) : runParts(plan, (a, slot) => {
            for (let i = 0; i < a.length; i += name === 'mset' ? 2 : 1) assert.equal(slotOf(a[i] as string), slot);
            return apply(a);
          });
        };
        assert.equal(run('mset', pairs.flat(), (a) => {
          for (let i = 0; i < a.length; i += 2) store.set(a[i] as string, a[i + 1] as string);
          return 'OK';
        }), 'OK');
        assert.deepEqual(run('mget', reads, (a) => a.map((k) => store.get(k as string) ?? null)), refMget);
        assert.equal(run('exists', reads, (a) => a.filter((k) => store.has(k as string)).length), refExists);
        assert.equal(run('del', dels, (a) => a.filter((k) => store.delete(k as string)).length), refDel);
      },
    ));
  });
});

describe('keyless fan-out policies (unit)', () => {
  it('follows the command tips: all_shards/all_nodes fan out, special ones do not', () => {
    assert.deepEqual(fanOutPolicy('dbsize', []), { targets: 'masters', reduce: 'sum' });
    assert.deepEqual(fanOutPolicy('flushall', []), { targets: 'masters', reduce: 'all' });
    assert.deepEqual(fanOutPolicy('keys', ['*']), { targets: 'masters', reduce: 'concat' });
    assert.deepEqual(fanOutPolicy('script', ['LOAD', 'return 1']), { targets: 'all', reduce: 'all' });
    assert.deepEqual(fanOutPolicy('script', ['exists', 'abc']), { targets: 'masters', reduce: 'and' });
    assert.deepEqual(fanOutPolicy('function', ['load', 'x']), { targets: 'masters', reduce: 'all' });
    for (const [c, a] of [['info', []], ['randomkey', []], ['scan', ['0']], ['get', ['k']], ['script', ['debug', 'no']]] as const) {
      assert.equal(fanOutPolicy(c, a), undefined, c);
    }
    assert.ok(mayFanOut('script') && mayFanOut('dbsize') && !mayFanOut('get'));
  });

  it('aggregates replies per response policy and fails on any error (except one_succeeded)', () => {
    const ok = (value: unknown) => ({ ok: true as const, value });
    const bad = new Error('NOTBUSY');
    assert.equal(reduceOutcomes('sum', [ok(2), ok(3), ok(0)]), 5);
    assert.deepEqual(reduceOutcomes('and', [ok([1, 1, 0]), ok([1, 0, 0])]), [1, 0, 0]);
    assert.equal(reduceOutcomes('min', [ok(2), ok(1)]), 1);
    assert.deepEqual(reduceOutcomes('concat', [ok(['a']), ok(['b', 'c'])]), ['a', 'b', 'c']);
    assert.equal(reduceOutcomes('all', [ok('OK'), ok('OK')]), 'OK');
    assert.throws(() => reduceOutcomes('all', [ok('OK'), { ok: false, error: bad }]), /NOTBUSY/);
    assert.equal(reduceOutcomes('one', [{ ok: false, error: bad }, ok('OK')]), 'OK');
    assert.throws(() => reduceOutcomes('one', [{ ok: false, error: bad }]), /NOTBUSY/);
  });
});
