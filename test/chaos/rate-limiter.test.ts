/**
 * RateLimiter through topology changes, on a private 3×1 cluster: while two
 * clients hammer a few keys, the hot key's slot is resharded live, then its
 * master is failed over (CLUSTER FAILOVER, the coordinated kind). No key is
 * ever granted more than `burst + W × rate` in any window, no check fails,
 * and checks keep being granted on the new owner.
 */
import assert from 'node:assert/strict';
import { ClusterClient, RateLimiter } from '../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../testcontainers/index.js';
import { overGrants, type Grant } from '../helpers/rate-check.js';
import { waitFor } from '../helpers/wait.js';

describe('chaos: RateLimiter through reshard and failover', function () {
  this.timeout(240_000);
  let cluster: StartedRedisCluster;
  let clients: ClusterClient[] = [];
  const opts = { limit: 50, periodMs: 1000, burst: 10 };
  const KEYS = ['hot', 'a', 'b', 'c'];

  before(async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).withNodeTimeoutMs(1000).start();
    clients = [0, 1].map(() => new ClusterClient({ rootNodes: cluster.getRootNodes(), commandTimeoutMs: 10_000 }));
    await Promise.all(clients.map((c) => c.connect()));
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.quit()));
    await cluster?.stop();
  });

  /** Runs 4 check loops per client over KEYS until `during` settles; returns the grants per key and the errors. */
  async function hammer(name: string, during: (limiter: RateLimiter) => Promise<void>) {
    const limiters = clients.map((c) => new RateLimiter(c, name, opts));
    const grants = new Map<string, Grant[]>(KEYS.map((k) => [k, []]));
    const errors: unknown[] = [];
    let running = true;
    let checks = 0;
    const loop = async (limiter: RateLimiter, i: number) => {
      while (running) {
        const key = i % 2 === 0 ? 'hot' : KEYS[Math.floor(Math.random() * KEYS.length)]!;
        try {
          const r = await limiter.tryAcquire(key);
          checks++;
          if (r.granted) grants.get(key)!.push([r.serverTimeUs, 1]);
          else await new Promise((res) => setTimeout(res, Math.min(r.retryAfterMs, 5)));
        } catch (err) {
          errors.push(err);
        }
      }
    };
    const loops = limiters.flatMap((l) => [0, 1, 2, 3].map((i) => loop(l, i)));
    await waitFor(() => checks > 200, { what: 'checks running before the fault' });
    await during(limiters[0]!);
    const before = checks;
    await waitFor(() => checks > before + 200, { timeoutMs: 30_000, what: 'checks after the fault' });
    running = false;
    await Promise.all(loops);
    return { grants, errors, intervalUs: limiters[0]!.intervalUs };
  }

  function assertBound(r: Awaited<ReturnType<typeof hammer>>, after: number) {
    for (const [key, g] of r.grants) assert.equal(overGrants(g, r.intervalUs, opts.burst), 0, `over-grants on ${key}`);
    assert.deepEqual(r.errors.map((e) => (e as Error).message), [], 'checks that failed');
    assert.ok(r.grants.get('hot')!.some(([t]) => t > after), 'the hot key was granted again after the fault');
  }

  const masterOf = (slot: number) => clients[0]!.topology!.shardOf(slot)!.master.port;

  it('a live reshard of the hot key\'s slot while checks run: no over-grant, no failed check', async () => {
    let endUs = 0;
    const r = await hammer('reshard', async (limiter) => {
      const slot = limiter.slotOf('hot');
      const from = masterOf(slot);
      const to = (await cluster.getNodes()).find((n) => n.role === 'master' && n.port !== from)!.port;
      const report = await cluster.reshard({ from, to, slots: [slot], batchSize: 1 });
      assert.deepEqual(report.slots, [slot]);
      await waitFor(() => masterOf(slot) === to, { timeoutMs: 20_000, what: 'client routing the slot to its new owner' });
      endUs = Date.now() * 1000;
    });
    assertBound(r, endUs);
  });

  it('a failover of the hot key\'s master while checks run: no over-grant, no failed check', async () => {
    let endUs = 0;
    const r = await hammer('failover', async (limiter) => {
      const slot = limiter.slotOf('hot');
      const from = masterOf(slot);
      const replica = (await cluster.getNodes()).find((n) => n.role === 'replica' && n.masterPort === from)!;
      await cluster.failover(replica.port);
      await waitFor(() => masterOf(slot) === replica.port, { timeoutMs: 20_000, what: 'client routing the slot to the promoted replica' });
      endUs = Date.now() * 1000;
    });
    assertBound(r, endUs);
  });
});
