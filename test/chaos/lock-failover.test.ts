/**
 * Locks through topology changes, on a private 3×1 cluster with a short
 * node timeout: a held lock survives a live reshard of its slot, and with
 * `replicaAck: 1` no lock is granted twice across 20 rounds of kill -9 of
 * the lock's master during contention.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { ClusterClient, isSlotwiseError, Mutex, type LockHandle } from '../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../testcontainers/index.js';
import { waitFor } from '../helpers/wait.js';

describe('chaos: locks through reshard and failover', function () {
  this.timeout(300_000);
  let cluster: StartedRedisCluster;
  let clients: ClusterClient[] = [];

  before(async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).withNodeTimeoutMs(1000).start();
    clients = [0, 1].map(() => new ClusterClient({ rootNodes: cluster.getRootNodes(), commandTimeoutMs: 8000 }));
    await Promise.all(clients.map((c) => c.connect()));
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.quit()));
    await cluster?.stop();
  });

  const masterOf = (c: ClusterClient, slot: number) => c.topology!.shardOf(slot)!.master.port;

  it('a held lock survives a live reshard of its slot: nobody else gets it, release and tokens continue on the new owner', async () => {
    const [a, b] = clients as [ClusterClient, ClusterClient];
    const mutex = new Mutex(a, 'reshard-me', { leaseMs: 1000, autoExtend: true });
    const held = await mutex.acquire();
    const from = masterOf(a, mutex.keys.slot);
    const target = (await cluster.getNodes()).find((n) => n.role === 'master' && n.port !== from)!.port;
    let stolen = 0;
    let tries = 0;
    let running = true;
    const rival = new Mutex(b, 'reshard-me', { leaseMs: 1000 });
    const contender = (async () => {
      while (running) {
        tries++;
        const h = await rival.tryAcquire().catch(() => null);
        if (h) {
          stolen++;
          await h.release();
        }
        await delay(2);
      }
    })();
    // Moves the lock's slot (and its neighbours) while it is held and renewed.
    await cluster.reshard({ from, to: target, slots: [mutex.keys.slot], batchSize: 1 });
    await waitFor(() => masterOf(a, mutex.keys.slot) === target, { timeoutMs: 20_000, what: 'client routing to the new owner' });
    await waitFor(() => tries > 50, { what: 'rival tries after the move' });
    running = false;
    await contender;
    assert.equal(stolen, 0, 'the rival never got the lock while it was held');
    assert.equal(held.signal.aborted, false, 'the holder never lost it');
    assert.equal(await held.release(), true);
    const next = await rival.acquire({ waitMs: 5000 });
    assert.ok(next.token > held.token, 'the fencing counter moved with the slot');
    await next.release();
  });

  it('replicaAck: 1 — no double grant in 20 rounds of kill -9 of the lock master during contention', async () => {
    const name = 'failover-me';
    const grants: { token: number; client: number }[] = [];
    const errors = new Map<string, number>();
    let inside = 0;
    let overlaps = 0;
    let running = true;
    const contender = async (ci: number) => {
      const mutex = new Mutex(clients[ci]!, name, { leaseMs: 10_000, replicaAck: 1, replicaAckTimeoutMs: 500, retryDelayMs: 50 });
      while (running) {
        let h: LockHandle;
        try {
          h = await mutex.acquire({ waitMs: 5000 });
        } catch (err) {
          const code = isSlotwiseError(err) ? err.code : `foreign:${(err as Error).message}`;
          errors.set(code, (errors.get(code) ?? 0) + 1);
          await delay(20);
          continue;
        }
        if (inside > 0) overlaps++;
        inside++;
        grants.push({ token: h.token, client: ci });
        await delay(1 + Math.random() * 3);
        inside--;
        await h.release().catch(() => false);
      }
    };
    const workers = [0, 1, 0, 1, 0, 1].map((ci) => contender(ci));
    const slot = new Mutex(clients[0]!, name).keys.slot;
    const t0 = Date.now();
    const rounds: string[] = [];
    try {
      for (let round = 0; round < 20; round++) {
        const before = grants.length;
        await waitFor(() => grants.length >= before + 5, { timeoutMs: 30_000, what: `grants before round ${round}` });
        const victim = (await cluster.getNodes()).find((n) => n.role === 'master' && n.slots.some(([a, b]) => a <= slot && slot <= b))!.port;
        const killed = await cluster.killNode(victim);
        assert.ok(killed.promoted, `round ${round}: a replica took over`);
        await cluster.restartNode(victim);
        rounds.push(`${victim}→${killed.promoted.port}`);
      }
      const before = grants.length;
      await waitFor(() => grants.length >= before + 5, { timeoutMs: 30_000, what: 'grants after the last round' });
    } finally {
      running = false;
      await Promise.all(workers);
    }
    const tokens = grants.map((g) => g.token);
    const duplicates = tokens.length - new Set(tokens).size;
    console.log(`      20 kill -9 rounds in ${Math.round((Date.now() - t0) / 1000)} s: ${grants.length} grants, ` +
      `errors ${JSON.stringify(Object.fromEntries(errors))}`);
    assert.equal(overlaps, 0, 'a grant while another holder was inside');
    assert.equal(duplicates, 0, 'a fencing token granted twice (a grant lost in a failover)');
    assert.ok([...errors.keys()].every((c) => c.startsWith('ERR_SLOTWISE_')), `only typed errors: ${[...errors.keys()].join(', ')}`);
  });
});
