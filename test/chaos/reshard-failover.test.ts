/**
 * The engine's reshard() survives a failover of its target or its source
 * master mid-migration (issue #21): IMPORTING/MIGRATING are not replicated,
 * so the promoted replica knows nothing of the migration; reshard() notices,
 * re-points the migration to the current masters and finishes moving the
 * keys. Every key ends up readable on the new owner and no slot stays open.
 */
import assert from 'node:assert/strict';
import calculateSlot from 'cluster-key-slot';
import { RedisClusterContainer, type ClusterNodeInfo, type StartedRedisCluster } from '../../testcontainers/index.js';
import { trackedRawConnections } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

const SLOTS = 150;
const KEYS_PER_SLOT = 3;

/** `perSlot` key names for each slot in `slots`. */
function keysForSlots(slots: readonly number[], perSlot: number, prefix: string): string[] {
  const left = new Map(slots.map((s) => [s, perSlot]));
  const keys: string[] = [];
  for (let i = 0; keys.length < slots.length * perSlot; i++) {
    const key = `${prefix}:${i}`;
    const n = left.get(calculateSlot(key));
    if (n === undefined || n === 0) continue;
    left.set(calculateSlot(key), n - 1);
    keys.push(key);
  }
  return keys;
}

describe('chaos: reshard survives a failover of its source or target master', function () {
  this.timeout(180_000);
  let cluster: StartedRedisCluster;
  const raw = trackedRawConnections();

  before(async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).start();
  });
  after(async () => {
    await cluster?.stop();
  });

  async function scenario(side: 'target' | 'source', prefix: string): Promise<void> {
    const nodes = await cluster.getNodes();
    const masters = nodes.filter((n) => n.role === 'master');
    const from = masters[0]!;
    const to = masters[1]!;
    const victim = side === 'target' ? to : from;
    const replica: ClusterNodeInfo = nodes.find((n) => n.masterId === victim.id)!;
    const slots: number[] = [];
    for (const [a, b] of from.slots) for (let s = a; s <= b && slots.length < SLOTS; s++) slots.push(s);
    const keys = keysForSlots(slots, KEYS_PER_SLOT, prefix);
    const onSource = raw(from.port, cluster);
    const w = onSource.pipeline();
    for (const k of keys) w.set(k, `v-${k}`);
    assert.ok((await w.exec())?.every(([e]) => e === null));

    let inSlots = 0;
    for (const s of slots) inSlots += Number(await onSource.call('CLUSTER', 'COUNTKEYSINSLOT', s));
    let failover: Promise<unknown> | undefined;
    let failedOverAt: number | undefined;
    const reshard = cluster.reshard({
      from: from.port,
      to: to.port,
      slots,
      slotsPerRound: 64,
      hooks: {
        // Mid-round: some slots of the round moved, the rest still open, this one open with its keys moved.
        // failover() resolves once the cluster agrees again, which (for a source failover) needs the
        // migration repaired: so the reshard goes on as soon as the replica is master.
        async afterSlotKeysMigrated(slot) {
          if (failover !== undefined || slot !== slots[20]) return;
          failover = cluster.failover(replica.port);
          const onReplica = raw(replica.port, cluster);
          await waitFor(async () => ((await onReplica.call('ROLE')) as unknown[])[0] === 'master', { timeoutMs: 30_000, what: `${replica.port} promoted` });
          failedOverAt = Date.now();
        },
      },
    });
    const report = await reshard.finally(() => failover?.catch(() => undefined));
    assert.ok(failedOverAt, 'the failover happened mid-migration');
    await failover;
    console.log(`      [engine] ${side} failed over mid-migration: ${report.slots.length} slots / ${report.keys} keys in ${report.durationMs} ms, ${report.failoversSurvived} failover(s) survived`);
    assert.equal(report.failoversSurvived, 1);
    assert.equal(report.keys, inSlots, 'every key of the slots was moved once');

    const newOwnerPort = side === 'target' ? replica.port : to.port;
    const after = await cluster.getNodes();
    const owner = after.find((n) => n.port === newOwnerPort)!;
    assert.equal(owner.role, 'master');
    const owned = new Set(owner.slots.flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i)));
    assert.ok(slots.every((s) => owned.has(s)), 'every node agrees the new owner owns every slot');
    const onOwner = raw(newOwnerPort, cluster);
    for (const k of keys) assert.equal(await onOwner.get(k), `v-${k}`, `${k} readable on the new owner ${newOwnerPort}`);
    assert.deepEqual(await cluster.healthProblems(), [], 'no slot left open, cluster healthy');
  }

  it('target master fails over mid-migration: reshard finishes, every key readable on the promoted target', async () => {
    await scenario('target', `rf-target-${Date.now()}`);
  });

  it('source master fails over mid-migration: reshard finishes, every key readable on the target', async () => {
    await scenario('source', `rf-source-${Date.now()}`);
  });
});
