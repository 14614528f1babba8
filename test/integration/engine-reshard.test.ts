import assert from 'node:assert/strict';
import calculateSlot from 'cluster-key-slot';
import type { StartedRedisCluster } from '../../testcontainers/index.js';
import { sharedCluster, trackedRawConnections } from '../helpers/cluster.js';

/** `perSlot` key names for each slot in `slots` (found by hashing candidates). */
function keysForSlots(slots: readonly number[], perSlot: number, prefix: string): Map<number, string[]> {
  const wanted = new Set(slots);
  const keys = new Map<number, string[]>(slots.map((s) => [s, []]));
  let remaining = slots.length * perSlot;
  for (let i = 0; remaining > 0; i++) {
    const key = `${prefix}:${i}`;
    const slot = calculateSlot(key);
    const list = keys.get(slot);
    if (!wanted.has(slot) || list === undefined || list.length >= perSlot) continue;
    list.push(key);
    remaining--;
  }
  return keys;
}

describe('engine: live reshard', function () {
  let cluster: StartedRedisCluster;
  const raw = trackedRawConnections();
  const conn = (port: number) => raw(port, cluster);

  it('moves 1000 slots with their keys; the source answers -ASK for a moved key mid-migration', async () => {
    cluster = await sharedCluster();
    const masters = (await cluster.getNodes()).filter((n) => n.role === 'master');
    const [from, to] = masters as [(typeof masters)[0], (typeof masters)[0]];
    const slots: number[] = [];
    for (const [a, b] of from.slots) for (let s = a; s <= b && slots.length < 1000; s++) slots.push(s);
    assert.equal(slots.length, 1000);

    const keys = keysForSlots(slots, 3, `reshard-${Date.now()}`);
    const source = conn(from.port);
    const target = conn(to.port);
    const writes = source.pipeline();
    for (const list of keys.values()) for (const k of list) writes.set(k, `value-of-${k}`);
    const written = await writes.exec();
    assert.ok(written?.every(([err]) => err === null), 'all keys written to their owner');
    // The cluster is shared: other suites may have keys in these slots too.
    const counts = source.pipeline();
    for (const s of slots) counts.cluster('COUNTKEYSINSLOT', s);
    const inSlots = ((await counts.exec()) ?? []).reduce((n, [, c]) => n + Number(c), 0);
    assert.ok(inSlots >= 3000);

    const observed: Array<{ slot: number; source: string; target: string }> = [];
    const report = await cluster.reshard({
      from: from.port,
      to: to.port,
      slots: 1000,
      hooks: {
        async afterSlotKeysMigrated(slot) {
          if (observed.length > 0) return;
          const key = keys.get(slot)![0]!;
          // Raw connections follow no redirects: we see exactly what a cluster client would.
          const onSource = await source.get(key).then(String, (e: Error) => e.message);
          const onTarget = await target.get(key).then(String, (e: Error) => e.message);
          observed.push({ slot, source: onSource, target: onTarget });
        },
      },
    });
    console.log(`      [engine] reshard of ${report.slots.length} slots / ${report.keys} keys took ${report.durationMs} ms`);

    assert.equal(observed.length, 1);
    const [seen] = observed as [(typeof observed)[0]];
    assert.equal(seen.source, `ASK ${seen.slot} 127.0.0.1:${to.port}`, 'source redirects a moved key with -ASK');
    assert.equal(seen.target, `MOVED ${seen.slot} 127.0.0.1:${from.port}`, 'target still redirects non-ASKING clients to the owner');

    assert.deepEqual(report.slots, slots);
    assert.equal(report.keys, inSlots, 'every key of the moved slots moved, ours and any other suite\'s');
    for (const [slot, list] of keys) {
      for (const k of list) {
        assert.equal(await target.get(k), `value-of-${k}`, `key ${k} (slot ${slot}) readable on the new owner`);
      }
    }
    const anyKey = keys.get(slots[0]!)![0]!;
    await assert.rejects(source.get(anyKey), new RegExp(`^.*MOVED ${slots[0]} 127\\.0\\.0\\.1:${to.port}$`));

    const after = await cluster.getNodes();
    const newTarget = after.find((n) => n.id === to.id)!;
    const owned = new Set(newTarget.slots.flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i)));
    assert.ok(slots.every((s) => owned.has(s)), 'every node agrees the target owns the slots');
    assert.deepEqual(await cluster.healthProblems(), []);
    // The shared cluster is left as it was found: other suites rely on the default slot layout.
    await cluster.reshard({ from: to.port, to: from.port, slots });
  });
});
