import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ReplyError } from 'ioredis';
import { backoffMs, Deadline, isTransient, jitter } from '../../../lib/core/retry.js';
import { CircuitOpenError, ConnectionError, InvalidArgumentError, PoolError, RedisReplyError, TimeoutError, TopologyError } from '../../../lib/errors.js';

describe('core retry policy (unit)', () => {
  it('backoff grows from the base, stays under the cap, and never drops below half the step', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 5000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (retry, base, max, r) => {
      const step = Math.min(max, base * 2 ** retry);
      const ms = backoffMs(retry, base, max, () => r);
      return ms >= step / 2 && ms <= step && ms <= max;
    }));
    assert.equal(jitter(100, () => 0), 50);
    assert.equal(jitter(100, () => 0.5), 75);
  });

  it('a deadline clamps waits to the time left and never goes negative', () => {
    const d = new Deadline(1000);
    assert.equal(d.passed, false);
    assert.ok(d.clamp(5000) <= 1000);
    assert.equal(d.clamp(10), 10);
    const past = new Deadline(-5);
    assert.equal(past.passed, true);
    assert.equal(past.clamp(100), 0);
  });

  it('one transient set for every retry loop: redirects, waits (UNBLOCKED too), transport, breaker, topology, pool', () => {
    for (const text of ['MOVED 1 127.0.0.1:7000', 'ASK 1 127.0.0.1:7000', 'TRYAGAIN x', 'CLUSTERDOWN x', 'LOADING x', 'MASTERDOWN x', 'READONLY x', 'UNBLOCKED x']) {
      assert.equal(isTransient(new ReplyError(text)), true, `raw ${text}`);
      assert.equal(isTransient(new RedisReplyError(text)), true, `wrapped ${text}`);
    }
    assert.equal(isTransient(new ConnectionError('lost', { maybeSent: true })), true);
    assert.equal(isTransient(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), true);
    assert.equal(isTransient(new CircuitOpenError('127.0.0.1:7000')), true);
    assert.equal(isTransient(new TopologyError('no master', {})), true);
    assert.equal(isTransient(new PoolError('exhausted')), true);
  });

  it('not transient: other replies, bad input, deadlines, non-errors', () => {
    assert.equal(isTransient(new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value')), false);
    assert.equal(isTransient(new RedisReplyError('ERR unknown command')), false);
    assert.equal(isTransient(new InvalidArgumentError('x', 'bad')), false);
    assert.equal(isTransient(new TimeoutError('late', 10)), false);
    assert.equal(isTransient('MOVED 1 127.0.0.1:7000'), false);
  });
});
