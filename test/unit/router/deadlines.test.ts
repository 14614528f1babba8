import assert from 'node:assert/strict';
import { DeadlineQueue, SETTLED_SLACK } from '../../../lib/router/deadlines.js';

class Item {
  settled = false;
  expired = false;
  constructor(readonly deadline: number, readonly q: DeadlineQueue<Item>) {}
  expire(): void {
    this.expired = true;
    this.settle();
  }
  settle(): void {
    if (this.settled) return;
    this.settled = true;
    this.q.settled();
  }
}

describe('DeadlineQueue (unit)', () => {
  it('expires due entries in order and skips settled ones', () => {
    const q = new DeadlineQueue<Item>(1000);
    const items = [10, 20, 30, 40].map((d) => new Item(d, q));
    items.forEach((i) => q.push(i));
    items[1]!.settle();
    q.sweep(25);
    assert.deepEqual(items.map((i) => i.expired), [true, false, false, false]);
    assert.equal(q.live, 2);
    q.sweep(100);
    assert.deepEqual(items.map((i) => i.expired), [true, false, true, true]);
    assert.equal(q.live, 0);
    q.close();
  });

  it('counts own-timer entries as live and resolves idle() when all settle', async () => {
    const q = new DeadlineQueue<Item>(1000);
    const a = new Item(5, q);
    q.push(a);
    q.count();
    let idle = false;
    const p = q.idle().then(() => (idle = true));
    a.settle();
    await Promise.resolve();
    assert.equal(idle, false);
    q.settled();
    await p;
    assert.equal(idle, true);
    q.close();
  });

  it('does not let one stuck head pin thousands of settled entries', () => {
    const q = new DeadlineQueue<Item>(1000);
    const stuck = new Item(1e15, q);
    q.push(stuck);
    for (let i = 0; i < 10_000; i++) {
      const it = new Item(1e15 + i, q);
      q.push(it);
      it.settle();
    }
    assert.equal(q.liveEntries().length, 1);
    assert.ok(q.live === 1);
    assert.ok(q.held <= SETTLED_SLACK + 4, `holds ${q.held} entries for 1 live one`);
    stuck.settle();
    q.close();
  });

  it('holds few settled entries under a steady load (64 in flight, each settling before its deadline)', () => {
    const q = new DeadlineQueue<Item>(1000);
    const inFlight: Item[] = [];
    let maxHeld = 0;
    for (let i = 0; i < 100_000; i++) {
      const it = new Item(1e15 + i, q);
      q.push(it);
      inFlight.push(it);
      if (inFlight.length > 64) inFlight.shift()!.settle();
      if (i % 97 === 0) q.sweep(0);
      maxHeld = Math.max(maxHeld, q.held);
    }
    // Settled requests are garbage a full GC cannot free while the queue holds them: keep few.
    assert.ok(maxHeld <= SETTLED_SLACK + 4 * 65 + 1, `held up to ${maxHeld} entries with 64-65 live`);
    for (const it of inFlight) it.settle();
    assert.equal(q.live, 0);
    q.close();
  });
});
