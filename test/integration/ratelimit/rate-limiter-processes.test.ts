/**
 * The RateLimiter's promise across processes: 8 processes hammering 100
 * keys for 10 s never get more than `burst + W × limit / period` units of a
 * key in any window W (server time), and the median check is one round trip.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RateLimiter } from '../../../lib/index.js';
import { spawnFixture } from '../../helpers/children.js';
import { sharedCluster, sharedClusterClient } from '../../helpers/cluster.js';
import { overGrants, type Grant } from '../../helpers/rate-check.js';

const FIXTURE = new URL('../../fixtures/ratelimit-child.ts', import.meta.url).pathname;

describe('ratelimit: RateLimiter across processes', function () {
  this.timeout(120_000);
  const client = sharedClusterClient();

  it('the bound check itself catches an over-grant (so the test below can fail)', () => {
    const T = 100_000; // µs
    assert.equal(overGrants([[0, 1], [T, 1], [2 * T, 1]], T, 1), 0);
    assert.equal(overGrants([[0, 2], [T, 1]], T, 2), 0);
    assert.equal(overGrants([[0, 2], [T / 2, 1]], T, 2), 1, 'a third unit half an interval after a burst of 2');
    assert.equal(overGrants([[5 * T, 1], [0, 1], [5 * T + 1, 1]], T, 1), 1, 'unsorted input is sorted first');
  });

  it('8 processes × 100 keys × 10 s: 0 grants beyond the documented burst; p50 per check = 1 round trip', async () => {
    const cluster = await sharedCluster();
    const opts = { limit: 20, periodMs: 1000, burst: 5 };
    const keyPrefix = `t-rlp-${randomUUID().slice(0, 8)}:`;
    const marker = join(tmpdir(), `slotwise-rl-${randomUUID()}`);
    const job = { ...opts, rootNodes: cluster.getRootNodes(), name: 'hammer', keyPrefix, keys: 100, inFlight: 4, durationMs: 10_000, marker };
    const children = Array.from({ length: 8 }, () => spawnFixture(FIXTURE, job));
    try {
      await Promise.all(children.map((c) => c.next('ready')));
      writeFileSync(marker, 'go');
      const results = await Promise.all(children.map((c) => c.next('done')));
      await Promise.all(children.map((c) => c.exited));

      const byKey = new Map<string, Grant[]>();
      for (const r of results) {
        for (const [key, grants] of Object.entries(r.grants as Record<string, Grant[]>)) {
          const all = byKey.get(key) ?? [];
          all.push(...grants);
          byKey.set(key, all);
        }
      }
      const limiter = new RateLimiter(client(), 'hammer', { ...opts, keyPrefix });
      let violations = 0;
      let units = 0;
      for (const grants of byKey.values()) {
        violations += overGrants(grants, limiter.intervalUs, opts.burst);
        units += grants.reduce((s, g) => s + g[1], 0);
      }
      const checks = results.reduce((s, r) => s + Number(r.checks), 0);
      const refused = results.reduce((s, r) => s + Number(r.refused), 0);
      const trips = results.reduce((s, r) => s + Number(r.trips), 0);
      const p50s = results.map((r) => Number(r.tripsP50));
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      console.log(`      ${checks} checks (${refused} refused), ${units} units granted on ${byKey.size} keys (ceiling ${100 * (opts.burst + 10 * opts.limit)}); ` +
        `round trips/check ${(trips / checks).toFixed(3)}; p50 check ${med(results.map((r) => Number(r.checkP50Ms))).toFixed(2)} ms vs p50 PTTL ${med(results.map((r) => Number(r.pttlP50Ms))).toFixed(2)} ms`);
      assert.equal(violations, 0, 'grants beyond burst + W × rate in some window');
      assert.ok(refused > 0 && units > 0, 'the limiter both granted and refused (it was exercised)');
      assert.ok(byKey.size >= 90, `grants on most of the 100 keys (${byKey.size})`);
      for (const p of p50s) assert.equal(p, 1, `median round trips per check in each process: ${p50s}`);
    } finally {
      rmSync(marker, { force: true });
      for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
      await Promise.all(children.map((c) => c.exited));
    }
  });
});
