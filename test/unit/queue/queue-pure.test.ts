/** Pure parts of the work queue: backoff, partition layout, option validation, strict JSON. */
import assert from 'node:assert/strict';
import { InvalidArgumentError, jsonSerializer } from '../../../lib/index.js';
import { backoffDelay } from '../../../lib/queue/job.js';
import { partitionKeys, partitionOf } from '../../../lib/queue/keys.js';
import { splitSlots } from '../../../testcontainers/cluster-state.js';
import { resolveAddOptions, resolveProcessOptions, resolveQueueOptions } from '../../../lib/queue/options.js';
import { SLOT_COUNT, slotOf } from '../../../lib/core/slots.js';

describe('work queue (unit)', () => {
  it('backoff doubles per failure, is capped, and half of it is random', () => {
    const lo = (a: number) => backoffDelay(a, 100, 1000, () => 0);
    const hi = (a: number) => backoffDelay(a, 100, 1000, () => 0.999999);
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(lo), [50, 100, 200, 400, 500, 500]);
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(hi), [100, 200, 400, 800, 1000, 1000]);
    // Successive ranges do not overlap: each retry waits at least as long as the previous one could.
    for (let a = 1; a < 4; a++) assert.ok(lo(a + 1) >= hi(a));
    const samples = new Set(Array.from({ length: 50 }, () => backoffDelay(3, 100, 10_000)));
    assert.ok(samples.size > 10, 'jittered');
  });

  it('spreads partitions over equal slot ranges and keeps one key in one partition', () => {
    for (const n of [1, 2, 3, 4, 16]) {
      const parts = partitionKeys('q', 'orders', n);
      assert.equal(parts.length, n);
      parts.forEach((p, i) => {
        if (n > 1) assert.ok(p.slot >= Math.floor((i * SLOT_COUNT) / n) && p.slot < Math.floor(((i + 1) * SLOT_COUNT) / n), `partition ${i} of ${n}`);
        for (const k of [p.ready, p.delayed, p.dead, `${p.jobPrefix}x`, p.wake]) assert.equal(slotOf(k), p.slot, `${k} in the partition's slot`);
      });
    }
    assert.equal(partitionOf('user:42', 4), partitionOf('user:42', 4));
    const spread = new Set(Array.from({ length: 100 }, (_, i) => partitionOf(`k${i}`, 4)));
    assert.equal(spread.size, 4);
  });

  it('puts partitions on min(count, 3) masters of an evenly split 3-master cluster, whatever the queue name', () => {
    const ranges = splitSlots(3); // the engine's (and redis-cli's) even split
    const masterOf = (slot: number) => ranges.findIndex(([lo, hi]) => slot >= lo && slot <= hi);
    for (let i = 0; i < 100; i++) {
      for (const n of [2, 3, 4, 5, 6, 8]) {
        const masters = new Set(partitionKeys('q', `queue-${i}`, n).map((p) => masterOf(p.slot)));
        assert.equal(masters.size, Math.min(n, 3), `queue-${i} with ${n} partitions`);
      }
    }
    assert.equal(partitionKeys('q', 'wide', 1024).length, 1024, 'the widest layout is still computed');
  });

  it('validates options up front with the option named', () => {
    const bad: [() => unknown, string][] = [
      [() => resolveQueueOptions({ partitions: 0 }), 'partitions'],
      [() => resolveQueueOptions({ maxDeliveries: 1.5 }), 'maxDeliveries'],
      [() => resolveQueueOptions({ backoffBaseMs: 10, backoffMaxMs: 5 }), 'backoffMaxMs'],
      [() => resolveQueueOptions({ prefix: 'a{b}' }), 'prefix'],
      [() => resolveQueueOptions({ replica: 1 } as never), 'option "replica"'],
      [() => resolveQueueOptions({ serializer: {} as never }), 'serializer'],
      [() => resolveAddOptions({ delayMs: -1 }), 'delayMs'],
      [() => resolveAddOptions({ delayMs: Number.NaN }), 'delayMs'],
      [() => resolveAddOptions({ jobId: '' }), 'jobId'],
      [() => resolveAddOptions({ priority: 1 } as never), 'priority'],
      [() => resolveAddOptions({ jobid: 'x' } as never), 'option "jobid"'],
      [() => resolveAddOptions({ priority: 3 }, 3), 'priority'],
      [() => resolveAddOptions({ priority: 0.5 }, 3), 'priority'],
      [() => resolveQueueOptions({ priorities: 17 }), 'priorities'],
      [() => resolveQueueOptions({ limiter: { max: 0, durationMs: 1000 } }), 'limiter.max'],
      [() => resolveQueueOptions({ limiter: { max: 10 } as never }), 'limiter.durationMs'],
      [() => resolveQueueOptions({ limiter: { max: 10, durationMs: 1000, burst: 0 } }), 'limiter.burst'],
      [() => resolveQueueOptions({ limiter: { max: 10, durationMs: 1000, rate: 1 } as never }), 'option "rate"'],
      [() => resolveQueueOptions({ globalConcurrency: 0 }), 'globalConcurrency'],
      [() => resolveQueueOptions({ removeOnComplete: { count: -1 } }), 'removeOnComplete.count'],
      [() => resolveQueueOptions({ removeOnDead: { ageMs: 1.5 } }), 'removeOnDead.ageMs'],
      [() => resolveQueueOptions({ removeOnDead: 'yes' as never }), 'removeOnDead'],
      [() => resolveProcessOptions({ concurrency: 0 }, 1000), 'concurrency'],
      [() => resolveProcessOptions({ concurency: 2 } as never, 1000), 'option "concurency"'],
    ];
    for (const [fn, argument] of bad) {
      assert.throws(fn, (e: unknown) => e instanceof InvalidArgumentError && e.argument === argument, argument);
    }
    assert.equal(resolveQueueOptions({ partitions: undefined }).partitions, 1, 'undefined means default');
    const o = resolveQueueOptions({ limiter: { max: 200, durationMs: 1000 }, removeOnComplete: { count: 10 }, removeOnDead: true });
    assert.deepEqual(o.limiter, { max: 200, durationMs: 1000, burst: 50 }, 'burst: a quarter of max by default');
    assert.deepEqual(o.removeOnComplete, { count: 10, ageMs: 86_400_000 }, 'age defaults to completedRetentionMs');
    assert.deepEqual(o.removeOnDead, { count: 0, ageMs: 0 });
    assert.deepEqual(resolveAddOptions({ priority: 2 }, 3).priority, 2);
  });

  it('strict JSON names what cannot be serialized', () => {
    assert.equal(jsonSerializer.serialize({ a: [1, 'x', null], d: new Date(0), skip: undefined }), '{"a":[1,"x",null],"d":"1970-01-01T00:00:00.000Z"}');
    assert.throws(() => jsonSerializer.serialize({ deep: { list: [{ n: 1n }] } }), /value\.deep\.list\[0\]\.n is a BigInt/);
    assert.throws(() => jsonSerializer.serialize(new Set([1])), /Set, which JSON turns into \{\}/);
  });
});

describe('keyspace notification options (unit)', () => {
  it('computes the notify-keyspace-events flags a subscription needs and what a node lacks', async () => {
    const { missingFlags, resolveKeyspaceOptions } = await import('../../../lib/pubsub/keyspace.js');
    assert.equal(resolveKeyspaceOptions().flags, 'Ex');
    assert.deepEqual(resolveKeyspaceOptions().channels, ['__keyevent@0__:expired']);
    const ks = resolveKeyspaceOptions({ channel: 'keyspace', keyPattern: 'session:*', events: ['del', 'expired', 'hset'] });
    assert.equal(ks.flags, 'Kgxh');
    assert.deepEqual(ks.channels, ['__keyspace@0__:session:*']);
    assert.equal(missingFlags('', 'Ex'), 'Ex');
    assert.equal(missingFlags('xE', 'Ex'), '');
    assert.equal(missingFlags('AKE', 'Kgxh'), '', "'A' covers every class but n, m");
    assert.equal(missingFlags('AE', 'En'), 'n');
    assert.equal(resolveKeyspaceOptions({ events: ['some_module_event'] }).flags, 'EA', 'unknown events need every class');
  });
});
