/** Tick arithmetic of repeatable jobs (pure): every-ticks on epoch multiples, cron in a time zone, the latest missed tick. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InvalidArgumentError } from '../../../lib/errors.js';
import { latestTick, nextTick, resolveSchedule } from '../../../lib/queue/repeat-spec.js';

describe('repeatable job ticks', () => {
  it('every: the next tick is the first multiple of the interval strictly after t; latestTick the last at or before', () => {
    fc.assert(fc.property(fc.integer({ min: 100, max: 86_400_000 }), fc.integer({ min: 0, max: 4e12 }), (every, t) => {
      const n = nextTick({ every }, t)!;
      assert.ok(n > t && n - t <= every && n % every === 0);
      const l = latestTick({ every }, 0, t)!;
      assert.ok(l <= t && t - l < every && l % every === 0);
    }));
  });

  it('cron in a time zone: 09:00 Paris is 08:00 UTC in winter and 07:00 UTC in summer', () => {
    const spec = resolveSchedule({ cron: '0 9 * * *', tz: 'Europe/Paris' });
    assert.equal(new Date(nextTick(spec, Date.UTC(2026, 0, 10, 12))!).toISOString(), '2026-01-11T08:00:00.000Z');
    assert.equal(new Date(nextTick(spec, Date.UTC(2026, 6, 10, 12))!).toISOString(), '2026-07-11T07:00:00.000Z');
  });

  it('latestTick: the last cron tick in [notBefore, at], or none', () => {
    const spec = resolveSchedule({ cron: '*/10 * * * * *' });
    assert.equal(latestTick(spec, Date.UTC(2026, 0, 1, 0, 0, 0), Date.UTC(2026, 0, 1, 0, 0, 35)), Date.UTC(2026, 0, 1, 0, 0, 30));
    assert.equal(latestTick(spec, Date.UTC(2026, 0, 1, 0, 0, 1), Date.UTC(2026, 0, 1, 0, 0, 9)), undefined);
  });

  it('schedules are validated: InvalidArgumentError naming the field', () => {
    for (const [input, argument] of [
      [{ every: 99 }, 'every'], [{ every: '1000' }, 'every'], [{ cron: '61 * * * *' }, 'cron'], [{ cron: '' }, 'cron'],
      [{ cron: '* * * * *', tz: 'Nowhere/City' }, 'tz'], [{ every: 1000, tz: 'UTC' }, 'tz'], [{ at: 5 }, 'schedule option "at"'], [null, 'schedule'],
    ] as const) {
      assert.throws(() => resolveSchedule(input), (e: unknown) => e instanceof InvalidArgumentError && e.argument === argument, JSON.stringify(input));
    }
  });
});
