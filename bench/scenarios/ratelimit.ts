/**
 * Rate limiting: slotwise RateLimiter (GCRA, one EVALSHA per check) vs a
 * naive fixed-window limiter (INCR, then PEXPIRE on a window's first hit, on
 * an ioredis 6 Cluster client with auto-pipelining) vs rate-limiter-flexible's
 * RateLimiterRedis (fixed window in one Lua call) on the same ioredis Cluster.
 *   - "open": 64 workers × 1000 keys, limit far above the load: every check
 *     is granted — raw cost of a check.
 *   - "hot": 64 workers × 10 keys at 100 units/s each: mostly refused —
 *     the cost of saying no, and how many units a key really got in its
 *     worst 1 s window (client clock), against the 100/s asked for.
 * Duration per series: BENCH_DURATION_MS (default 5000).
 */
import { Cluster } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { performance } from 'node:perf_hooks';
import { ClusterClient, RateLimiter } from '../../lib/index.js';
import { closedLoop, withBenchCluster, writeReport, type Measurement } from '../harness.js';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const HOT_LIMIT = 100;

type Check = (key: string) => Promise<boolean>;

/** The most units any key got within one sliding 1 s window. */
function worstWindow(grants: Map<string, number[]>): number {
  let worst = 0;
  for (const times of grants.values()) {
    times.sort((a, b) => a - b);
    let lo = 0;
    for (let hi = 0; hi < times.length; hi++) {
      while (times[hi]! - times[lo]! >= 1000) lo++;
      worst = Math.max(worst, hi - lo + 1);
    }
  }
  return worst;
}

export async function run(): Promise<void> {
  const measurements: Measurement[] = [];
  await withBenchCluster({ masters: 3, replicas: 1 }, async (cluster) => {
    const slotwise = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await slotwise.connect();
    const ioredis = new Cluster(cluster.getRootNodes(), { enableAutoPipelining: true });
    await new Promise<void>((resolve, reject) => {
      ioredis.once('ready', () => resolve());
      ioredis.once('error', reject);
    });

    const variants = (limit: number, tag: string): [string, Check][] => {
      // A tenth of a second's worth of burst: GCRA's window bound is then 1.1 × limit.
      const gcra = new RateLimiter(slotwise, `bench-${tag}`, { limit, periodMs: 1000, burst: Math.max(1, limit / 10) });
      const flexible = new RateLimiterRedis({ storeClient: ioredis, points: limit, duration: 1, keyPrefix: `rlflx-${tag}` });
      const naive: Check = async (key) => {
        const k = `naive-${tag}:{${key}}`;
        const n = await ioredis.incr(k);
        if (n === 1) await ioredis.pexpire(k, 1000);
        return n <= limit;
      };
      return [
        ['slotwise RateLimiter (GCRA)', async (key) => (await gcra.tryAcquire(key)).granted],
        ['naive INCR + PEXPIRE (ioredis Cluster)', naive],
        ['rate-limiter-flexible (ioredis Cluster)', (key) => flexible.consume(key, 1).then(() => true, (r: unknown) => {
          if (r instanceof Error) throw r;
          return false; // a RateLimiterRes: refused
        })],
      ];
    };

    const series = [
      { scenario: 'open: 64 workers × 1000 keys', concurrency: 64, keys: 1000, limit: 1_000_000 },
      { scenario: `hot: 64 workers × 10 keys at ${HOT_LIMIT}/s`, concurrency: 64, keys: 10, limit: HOT_LIMIT },
    ];
    for (const [si, s] of series.entries()) {
      for (const [client, check] of variants(s.limit, `s${si}`)) {
        const grants = new Map<string, number[]>();
        let granted = 0;
        let checks = 0;
        const r = await closedLoop(s.concurrency, DURATION_MS, async (w, i) => {
          const key = `k${(w * 7919 + i) % s.keys}`;
          checks++;
          if (await check(key)) {
            granted++;
            if (s.keys <= 10) {
              let g = grants.get(key);
              if (!g) grants.set(key, (g = []));
              g.push(performance.now());
            }
          }
        });
        const extra: Record<string, number> = { grantedShare: Math.round((granted / Math.max(1, checks)) * 1000) / 1000, cpuUsPerCheck: r.cpuUsPerOp };
        if (s.keys <= 10) extra.worstWindowPerLimit = Math.round((worstWindow(grants) / s.limit) * 100) / 100;
        console.log(`${s.scenario} · ${client}: ${r.opsPerSec} checks/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, errors ${r.errors}` +
          `${r.firstError ? ` (${r.firstError})` : ''}, ${JSON.stringify(extra)}`);
        measurements.push({ client, scenario: s.scenario, ops: r.ops, opsPerSec: r.opsPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms, errors: r.errors, extra });
      }
    }
    await slotwise.quit();
    await ioredis.quit();
  });
  writeReport({
    name: 'ratelimit',
    title: 'Rate limiting: one check',
    command: 'npm run bench -- ratelimit',
    setup: `Fresh 3 masters × 1 replica cluster; ${DURATION_MS / 1000} s closed loop per series after a warm-up; one operation = one check of one key. ` +
      'slotwise: RateLimiter (GCRA, burst = limit / 10). Naive: INCR then PEXPIRE 1 s on the first hit of a window. ' +
      'rate-limiter-flexible: RateLimiterRedis (fixed 1 s window, one Lua call), both on an ioredis 6 Cluster client with auto-pipelining.',
    measurements,
    notes: 'worstWindowPerLimit: the most units one hot key got in any sliding 1 s window (client clock), divided by the limit. ' +
      'Fixed windows allow up to 2 × limit across a window boundary; GCRA allows burst + limit (here 1.1 × limit). ' +
      'Numbers from a shared 2-core machine are indicative only; the lead re-runs benchmarks on an idle machine.',
  });
}
