/** Pure parts of lib/lock: key layout, fence keys, option validation. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InvalidArgumentError, slotOf } from '../../../lib/index.js';
import { fenceKeyOf } from '../../../lib/lock/fencing.js';
import { checkName, LockKeys } from '../../../lib/lock/keys.js';
import { resolveAcquire, resolveLeaseOptions } from '../../../lib/lock/options.js';

describe('lock: keys and options', () => {
  it('every key of a lock hashes to one slot, for any name without braces', () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.includes('{') && !s.includes('}')), (name) => {
      const k = new LockKeys('slotwise:', 'mutex', checkName(name));
      for (const key of [k.base, k.key('fence'), k.key('queue'), k.channel]) assert.equal(slotOf(key), k.slot);
    }));
  });

  it('the fence key of a resource lives in its slot (with or without a hash tag)', () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 30 }), (key) => {
      let fence: string;
      try {
        fence = fenceKeyOf(key);
      } catch (err) {
        assert.ok(err instanceof InvalidArgumentError && key.includes('}'), `refused only keys with braces: ${JSON.stringify(key)}`);
        return;
      }
      assert.equal(slotOf(fence), slotOf(key));
    }));
    assert.equal(fenceKeyOf('balance'), 'slotwise:fence:{balance}');
    assert.equal(fenceKeyOf('{user:1}:balance'), 'slotwise:fence:{user:1}:{user:1}:balance');
  });

  it('names: non-empty, bounded, no braces', () => {
    assert.throws(() => checkName(''), InvalidArgumentError);
    assert.throws(() => checkName(42), /non-empty string/);
    assert.throws(() => checkName('x'.repeat(2000)), /at most/);
    assert.throws(() => checkName('a}'), /brace/);
  });

  it('lease options: defaults, and each bad value named', () => {
    const o = resolveLeaseOptions({});
    assert.equal(o.leaseMs, 10_000);
    assert.ok(Object.isFrozen(o));
    const bad: [Record<string, unknown>, string][] = [
      [{ leaseMs: 0 }, 'leaseMs'], [{ leaseMs: 1.5 }, 'leaseMs'], [{ renewRatio: 1 }, 'renewRatio'],
      [{ driftFactor: -1 }, 'driftFactor'], [{ waitMs: -1 }, 'waitMs'], [{ retryDelayMs: 0 }, 'retryDelayMs'],
      [{ keyPrefix: 'a{' }, 'keyPrefix'], [{ replicaAck: 1.5 }, 'replicaAck'], [{ autoExtend: 'yes' }, 'autoExtend'],
    ];
    for (const [opts, arg] of bad) {
      assert.throws(() => resolveLeaseOptions(opts), (e: unknown) => e instanceof InvalidArgumentError && e.argument === arg, arg);
    }
    assert.equal(resolveAcquire({ waitMs: Infinity }, 5).waitMs, Infinity);
    assert.throws(() => resolveAcquire({ signal: {} as AbortSignal }, 5), /AbortSignal/);
  });
});
