/**
 * Pipelines and transactions while slots move (private cluster): the
 * ordering and exactly-once guarantees of docs/03-multi-key.md, checked with
 * INCR so that a lost entry or a duplicate shows as a wrong count.
 */
import assert from 'node:assert/strict';
import { ClusterClient, WatchConflictError, slotOf } from '../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../testcontainers/index.js';

describe('chaos: pipelines and transactions during a live reshard', function () {
  this.timeout(180_000);
  let cluster: StartedRedisCluster;

  before(async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(0).start();
  });
  after(async () => {
    await cluster?.stop();
  });
  const clients: ClusterClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.quit()));
  });

  /** A client whose map only changes through redirects (no periodic refresh to hide them). */
  async function staleClient(): Promise<ClusterClient> {
    const c = new ClusterClient({ rootNodes: cluster.getRootNodes(), topologyRefreshIntervalMs: 0 });
    clients.push(c);
    await c.connect();
    return c;
  }

  /** The master port owning `slot` right now, per the cluster. */
  async function ownerPort(slot: number): Promise<number> {
    const nodes = await cluster.getNodes();
    return nodes.find((n) => n.role === 'master' && n.slots.some(([a, b]) => slot >= a && slot <= b))!.port;
  }

  it('1,000-command mixed-slot pipelines issued during a reshard: every result correct and in order, none lost or duplicated', async () => {
    const client = await staleClient();
    const redirects = { moved: 0, ask: 0 };
    client.on('redirect', (r) => redirects[r.kind]++);
    const [a, b] = cluster.getRootNodes();
    const ownedByA = (await cluster.getNodes()).find((n) => n.port === a!.port)!.slots;
    const moving = (s: number) => ownedByA.some(([lo, hi]) => s >= lo && s < Math.min(hi + 1, lo + 512));
    // 150 keys in the 512 slots that move, 50 anywhere; one slot per MGET key so no MGET part holds two keys.
    const keys: string[] = [];
    const used = new Set<number>();
    for (let i = 0; keys.length < 200; i++) {
      const k = `pr:${i}`;
      const s = slotOf(k);
      if (used.has(s) || (keys.length < 150 && !moving(s))) continue;
      used.add(s);
      keys.push(k);
    }
    const model = new Map<string, number>();
    let seed = 1;
    const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    let pipelines = 0;
    const runPipeline = async () => {
      const pipe = client.pipeline();
      const expected: unknown[] = [];
      for (let i = 0; i < 1000; i++) {
        const k = keys[Math.floor(rand() * keys.length)]!;
        const r = rand();
        if (r < 0.75) {
          pipe.incr(k);
          model.set(k, (model.get(k) ?? 0) + 1);
          expected.push(model.get(k));
        } else if (r < 0.9) {
          pipe.get(k);
          expected.push(model.has(k) ? String(model.get(k)) : null);
        } else {
          // A cross-slot MGET inside the pipeline: split per slot, each part in its slot's order.
          const ks = [k, keys[Math.floor(rand() * keys.length)]!, keys[Math.floor(rand() * keys.length)]!];
          pipe.mget(ks);
          expected.push(ks.map((x) => (model.has(x) ? String(model.get(x)) : null)));
        }
      }
      const results = await pipe.exec();
      const errors = results.filter(([e]) => e !== null).map(([e]) => e!.message);
      assert.deepEqual(errors.slice(0, 3), [], `pipeline ${pipelines}: ${errors.length} entries failed`);
      assert.deepEqual(results.map(([, v]) => v), expected, `pipeline ${pipelines}: results in the caller's order`);
      pipelines++;
    };
    // Pipelines run at fixed points of the migration, while the reshard waits for them: in the
    // middle of a 16-slot round (keys of its first slots already on the target: -ASK) and right
    // after a round is finalized (the client's map is stale: -MOVED).
    let migrated = 0;
    let finalized = 0;
    const reshard = cluster.reshard({
      from: a!.port, to: b!.port, slots: 512, slotsPerRound: 16, batchSize: 20,
      hooks: {
        afterSlotKeysMigrated: () => (++migrated % 16 === 8 ? runPipeline() : undefined),
        afterSlotFinalized: () => (++finalized % 16 === 1 ? runPipeline() : undefined),
      },
    });
    const report = await reshard;
    assert.equal(report.slots.length, 512);
    assert.ok(report.keys > 0, 'keys moved while the pipelines ran');
    const stored = await client.mget(keys);
    assert.deepEqual(stored, keys.map((k) => (model.has(k) ? String(model.get(k)) : null)), 'every INCR applied exactly once');
    assert.ok(redirects.moved + redirects.ask > 0, `the pipelines really were redirected (${JSON.stringify(redirects)})`);
    assert.ok(redirects.moved > 0 && redirects.ask > 0, `both MOVED and ASK were followed (${JSON.stringify(redirects)})`);
    assert.equal(pipelines, 64);
  });

  it('re-runs an un-WATCHed transaction on the new owner after ASK (mid-migration) and MOVED (after it)', async () => {
    const client = await staleClient();
    const key = '{txmove}:n';
    const slot = slotOf(key);
    await client.set(key, '10');
    const from = await ownerPort(slot);
    const to = cluster.getRootNodes().find((n) => n.port !== from)!.port;
    let duringMigration: unknown;
    await cluster.reshard({
      from, to, slots: [slot],
      hooks: {
        // The key already lives on the target; the source answers -ASK for it.
        afterSlotKeysMigrated: async () => {
          duringMigration = await client.multi().incr(key).incrby(key, 5).exec();
        },
      },
    });
    assert.deepEqual(duringMigration, [[null, 11], [null, 16]]);
    // The client's map still names the old owner: MOVED, then the new owner runs it.
    assert.deepEqual(await client.multi().incr(key).get(key).exec(), [[null, 17], [null, '17']]);
    assert.equal(await client.get(key), '17', 'each transaction applied exactly once');
  });

  it('reports a WATCHed transaction whose slot moved before EXEC as a conflict, applying nothing; retries re-run it on the new owner', async () => {
    const client = await staleClient();
    const key = '{txwatch}:n';
    const slot = slotOf(key);
    await client.set(key, '1');
    const moveSlot = async () => {
      const from = await ownerPort(slot);
      await cluster.reshard({ from, to: cluster.getRootNodes().find((n) => n.port !== from)!.port, slots: [slot] });
    };
    await assert.rejects(
      client.watch(key, async (tx) => {
        const v = Number(await tx.get(key));
        await moveSlot();
        return tx.multi().set(key, String(v * 100)).exec();
      }),
      (e: unknown) => e instanceof WatchConflictError,
    );
    assert.equal(await client.get(key), '1', 'nothing was applied');

    let runs = 0;
    const result = await client.watch(key, async (tx) => {
      runs++;
      const v = Number(await tx.get(key));
      if (runs === 1) await moveSlot();
      return tx.multi().set(key, String(v + 1)).exec();
    }, { retries: 2 });
    assert.deepEqual(result, [[null, 'OK']]);
    assert.equal(runs, 2, 'the conflict re-ran the callback once, on the new owner');
    assert.equal(await client.get(key), '2');
  });
});
