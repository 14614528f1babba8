import assert from 'node:assert/strict';
import { DeadlineQueue } from '../../../lib/router/deadlines.js';

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
    stuck.settle();
    q.close();
  });
});
