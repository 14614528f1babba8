/**
 * What users of RateLimiter feel on the shared cluster: the burst, then the
 * steady rate; refused checks count nothing; acquire() waits exactly what
 * the server says and can be aborted; bad input is refused before anything
 * is written; one check is one command.
 */
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';
import { randomUUID } from 'node:crypto';
import { ClusterClient, InvalidArgumentError, RateLimitedError, RateLimiter, type CommandDiagnostics } from '../../../lib/index.js';
import { sharedClusterClient } from '../../helpers/cluster.js';
import { overGrants, type Grant } from '../../helpers/rate-check.js';

describe('ratelimit: RateLimiter', function () {
  this.timeout(60_000);
  const client = sharedClusterClient();
  const run = randomUUID().slice(0, 8);
  let n = 0;
  const prefix = () => `t-rl-${run}-${n++}:`;

  async function keysUnder(p: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const k of client().scanIterator({ match: `${p}*` })) keys.push(String(k));
    return keys;
  }

  it('an idle key gets its burst at once, then the sustained rate; refusals say when to retry', async () => {
    const limiter = new RateLimiter(client(), 'burst', { limit: 10, periodMs: 1000, burst: 5, keyPrefix: prefix() });
    const remaining: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await limiter.tryAcquire('user:1');
      assert.equal(r.granted, true, `grant ${i + 1} of the burst`);
      remaining.push(r.remaining);
    }
    // Some of the 100 ms interval may have passed during the 5 calls: at most one unit came back.
    assert.ok(remaining[4]! <= 1, `remaining after the burst: ${remaining}`);
    let refused = await limiter.tryAcquire('user:1');
    if (refused.granted) refused = await limiter.tryAcquire('user:1');
    assert.equal(refused.granted, false);
    assert.ok(refused.retryAfterMs >= 1 && refused.retryAfterMs <= 100, `retryAfterMs ${refused.retryAfterMs} within one interval`);
    assert.ok(refused.resetAfterMs <= 500, `resetAfterMs ${refused.resetAfterMs} ≤ burst × interval`);
    // Another key has its own budget.
    assert.equal((await limiter.tryAcquire('user:2')).granted, true);
    const ttl = await client().pttl(limiter.keyOf('user:1'));
    assert.ok(ttl > 0 && ttl <= 500, `state expires once idle (pttl ${ttl})`);
  });

  it('n units at once: a refused request counts nothing', async () => {
    const limiter = new RateLimiter(client(), 'units', { limit: 1, periodMs: 60_000, burst: 5, keyPrefix: prefix() });
    const a = await limiter.tryAcquire('k', 3);
    assert.deepEqual([a.granted, a.remaining], [true, 2]);
    const b = await limiter.tryAcquire('k', 3);
    assert.deepEqual([b.granted, b.remaining], [false, 2]);
    assert.ok(b.retryAfterMs > 50_000, `one unit comes back per minute: ${b.retryAfterMs}`);
    const c = await limiter.tryAcquire('k', 2);
    assert.deepEqual([c.granted, c.remaining], [true, 0]);
    await limiter.reset('k');
    assert.equal((await limiter.tryAcquire('k', 5)).granted, true, 'reset gives the full burst back');
  });

  it('acquire() waits the time the server reports: grants spaced by the interval in server time, within the bound', async () => {
    const limiter = new RateLimiter(client(), 'spaced', { limit: 20, periodMs: 1000, burst: 1, keyPrefix: prefix() });
    const grants: Grant[] = [];
    await Promise.all([0, 1, 2].map(async () => {
      for (let i = 0; i < 3; i++) grants.push([(await limiter.acquire('k')).serverTimeUs, 1]);
    }));
    assert.equal(grants.length, 9);
    const times = grants.map((g) => g[0]).sort((x, y) => x - y);
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= 49_000, `gap ${times[i]! - times[i - 1]!} µs ≥ one 50 ms interval`);
    assert.equal(overGrants(grants, limiter.intervalUs, 1), 0);
  });

  it('acquire() rejects at once with RateLimitedError when the wait allowed is too short, granting nothing', async () => {
    const limiter = new RateLimiter(client(), 'short', { limit: 1, periodMs: 10_000, burst: 1, keyPrefix: prefix() });
    await limiter.acquire('k');
    const t0 = Date.now();
    const err = await limiter.acquire('k', 1, { waitMs: 1000 }).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof RateLimitedError, String(err));
    assert.equal(err.code, 'ERR_SLOTWISE_RATE_LIMITED');
    assert.equal(err.key, 'k');
    assert.ok(err.retryAfterMs > 1000 && err.retryAfterMs <= 10_000, String(err.retryAfterMs));
    assert.ok(Date.now() - t0 < err.retryAfterMs, 'did not sleep in vain first');
    const after = await limiter.tryAcquire('k');
    assert.equal(after.granted, false);
    assert.ok(after.retryAfterMs > err.retryAfterMs - 1000, 'the rejected acquire consumed nothing');
  });

  it('acquire() is abortable: rejects with the signal reason while waiting and takes no unit afterwards', async () => {
    const limiter = new RateLimiter(client(), 'abort', { limit: 1, periodMs: 2000, burst: 1, keyPrefix: prefix() });
    await limiter.acquire('k');
    const ac = new AbortController();
    const reason = new Error('client went away');
    const waiting = limiter.acquire('k', 1, { signal: ac.signal });
    setImmediate(() => ac.abort(reason));
    await assert.rejects(waiting, (e) => e === reason);
    // An already-aborted signal: nothing is sent at all.
    await assert.rejects(limiter.acquire('other', 1, { signal: AbortSignal.abort(reason) }), (e) => e === reason);
    assert.equal(await client().exists(limiter.keyOf('other')), 0);
    const r = await limiter.tryAcquire('k');
    assert.equal(r.granted, false, 'still within the first interval: the aborted wait left the budget alone');
  });

  it('bad input: InvalidArgumentError naming the field, nothing written', async () => {
    const p = prefix();
    const c = client();
    const bad: [() => unknown, string][] = [
      [() => new RateLimiter(c, 'x', { limit: 0, periodMs: 1000, keyPrefix: p }), 'limit'],
      [() => new RateLimiter(c, 'x', { limit: 1.5, periodMs: 1000, keyPrefix: p }), 'limit'],
      [() => new RateLimiter(c, 'x', { limit: 10, periodMs: -1, keyPrefix: p }), 'periodMs'],
      [() => new RateLimiter(c, 'x', { limit: 10, periodMs: 1000, burst: 0, keyPrefix: p }), 'burst'],
      [() => new RateLimiter(c, 'x', { limit: 10_000_000, periodMs: 1, keyPrefix: p }), 'limit'],
      [() => new RateLimiter(c, 'x', { limit: 10, periodMs: 1000, keyPrefix: '{p}' }), 'keyPrefix'],
      [() => new RateLimiter(c, 'a{b}', { limit: 10, periodMs: 1000, keyPrefix: p }), 'name'],
      [() => new RateLimiter(c, 'x', undefined as never), 'options'],
      [() => new RateLimiter({} as ClusterClient, 'x', { limit: 1, periodMs: 1 }), 'client'],
    ];
    for (const [fn, field] of bad) {
      assert.throws(fn, (e: unknown) => e instanceof InvalidArgumentError && e.code === 'ERR_SLOTWISE_INVALID_ARGUMENT' && e.message.includes(field), field);
    }
    const limiter = new RateLimiter(c, 'x', { limit: 10, periodMs: 1000, burst: 3, keyPrefix: p });
    const rejected: [Promise<unknown>, string][] = [
      [limiter.tryAcquire(''), 'key'],
      [limiter.tryAcquire('a}b'), 'key'],
      [limiter.tryAcquire(42 as never), 'key'],
      [limiter.tryAcquire('k', 0), 'n'],
      [limiter.tryAcquire('k', 4), 'burst'],
      [limiter.tryAcquire('k', 1.5), 'n'],
      [limiter.acquire('k', 4), 'burst'],
      [limiter.acquire('k', 1, { waitMs: -1 }), 'waitMs'],
      [limiter.acquire('k', 1, { signal: 'no' as never }), 'signal'],
    ];
    for (const [p2, field] of rejected) {
      await assert.rejects(p2, (e: unknown) => e instanceof InvalidArgumentError && e.message.includes(field), field);
    }
    assert.deepEqual(await keysUnder(p), [], 'nothing was written');
  });

  it('one check is one command, one round trip; each limited key lives in its own slot', async () => {
    const limiter = new RateLimiter(client(), 'trips', { limit: 1000, periodMs: 1000, keyPrefix: prefix() });
    const keys = Array.from({ length: 50 }, (_, i) => `user:${i}`);
    await Promise.all(keys.map((k) => limiter.tryAcquire(k))); // every master has the script cached now
    const als = new AsyncLocalStorage<CommandDiagnostics[]>();
    const seen = (m: unknown) => als.getStore()?.push(m as CommandDiagnostics);
    diagnostics.subscribe('slotwise:command', seen);
    try {
      for (const k of keys) {
        const cmds: CommandDiagnostics[] = [];
        await als.run(cmds, () => limiter.tryAcquire(k));
        assert.equal(cmds.length, 1, `commands for one check of ${k}`);
        assert.equal(cmds[0]!.command.toLowerCase(), 'evalsha');
        assert.equal(cmds[0]!.attempts, 1);
        assert.equal(cmds[0]!.slot, limiter.slotOf(k));
      }
    } finally {
      diagnostics.unsubscribe('slotwise:command', seen);
    }
    assert.ok(new Set(keys.map((k) => limiter.slotOf(k))).size > 40, 'limited keys spread over slots');
    assert.match(limiter.keyOf('user:1'), /^t-rl-.*rate:\{trips:user:1\}$/);
  });
});
