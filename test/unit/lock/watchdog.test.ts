/**
 * The watchdog's schedule: a tick looks only at the leases it handles, not
 * at every lease held. The EXTEND script runs through a recording transport
 * (a real Script object; only the round trip to Redis is replaced), because
 * what is measured here is the client's own bookkeeping.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { performance } from 'node:perf_hooks';
import { Script } from '../../../lib/index.js';
import { DueHeap } from '../../../lib/lock/due-heap.js';
import { Lease } from '../../../lib/lock/lease.js';
import { Watchdog } from '../../../lib/lock/watchdog.js';
import { waitFor } from '../../helpers/wait.js';

function lease(i: number, leaseMs: number, autoExtend: boolean): Lease {
  const l = new Lease({ key: `k${i}`, slot: i % 16384, kind: 'h', owner: `o${i}`, leaseMs, driftFactor: 0.01, renewRatio: 1 / 3, autoExtend });
  l.confirmed(performance.now());
  return l;
}

describe('lock: watchdog schedule', () => {
  it('DueHeap pops in due order and retain() keeps exactly what it is told', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.boolean()), { maxLength: 200 }), (entries) => {
      const h = new DueHeap<number>();
      entries.forEach(([due], i) => h.push(due, i, i));
      h.retain((i) => entries[i]![1]);
      const kept = entries.filter(([, keep]) => keep).map(([due]) => due).sort((a, b) => a - b);
      const popped: number[] = [];
      while (h.size > 0) {
        popped.push(h.peekDue());
        h.pop();
      }
      assert.deepEqual(popped, kept);
    }));
  });

  it('5,000 idle leases + 3 renewing ones: ticks examine only the renewing ones; released leases are never renewed', async () => {
    const sent: string[][] = [];
    const extend = new Script({ name: 'extend', lua: 'return 1' }, async (_cmd, args) => {
      const keys = args.slice(2, 2 + Number(args[1])) as string[];
      sent.push(keys);
      return keys.map(() => 1);
    });
    const dog = new Watchdog(extend);
    const idle = Array.from({ length: 5000 }, (_, i) => lease(i, 3_600_000, false));
    for (const l of idle) dog.add(l);
    const busy = [lease(90_001, 150, true), lease(90_002, 150, true), lease(90_003, 150, true)];
    for (const l of busy) dog.add(l);
    const gone = lease(90_004, 150, true);
    dog.add(gone);
    dog.delete(gone);
    await waitFor(() => dog.stats.ticks >= 10, { timeoutMs: 20_000, what: '10 watchdog ticks' });
    const { ticks, examined } = dog.stats;
    // Before the heap each tick walked all 5,004 leases (≥ 50,000 looks for 10 ticks).
    assert.ok(examined <= ticks * 8, `examined ${examined} entries in ${ticks} ticks`);
    assert.ok(sent.flat().every((k) => ['k90001', 'k90002', 'k90003'].includes(k)), 'only the auto-extended leases were renewed');
    assert.ok(busy.every((l) => l.remainingMs() > 0), 'renewed leases stay valid');
    for (const l of [...idle, ...busy]) dog.delete(l);
    assert.deepEqual(dog.stats.watched, 0);
    assert.equal(dog.stats.entries, 0, 'the schedule is empty once nothing is watched');
  });

  it('a lease whose renewals fail is declared lost when its validity runs out', async () => {
    const extend = new Script({ name: 'extend', lua: 'return 1' }, async () => {
      throw new Error('node down');
    });
    const dog = new Watchdog(extend);
    const l = lease(1, 200, true);
    let lost: string | undefined;
    l.onLost = (reason) => (lost = reason);
    dog.add(l);
    await waitFor(() => lost, { timeoutMs: 5000, what: 'lost' });
    assert.equal(lost, 'expired');
    assert.equal(dog.stats.watched, 0);
  });
});
