import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Request } from '../../../lib/router/request.js';
import { SlotSequencer } from '../../../lib/router/sequencer.js';

/** The fields of a Request the sequencer reads. */
type Fake = { slot: number; seqIndex: number; name: string };

describe('SlotSequencer (unit)', () => {
  function setup() {
    const written: string[] = [];
    let seq!: SlotSequencer<Request>;
    // What the executor does on resume: ask again, write when admitted.
    const attempt = (r: Fake) => {
      if (!seq.admit(r as unknown as Request)) return;
      written.push(r.name);
      seq.left(r as unknown as Request);
    };
    seq = new SlotSequencer((r) => attempt(r as unknown as Fake));
    const req = (slot: number, name: string): Fake => ({ slot, seqIndex: seq.nextIndex(), name });
    return { seq, written, attempt, req, as: (r: Fake) => r as unknown as Request };
  }

  it('holds a retry behind an earlier request of the same slot that is backing off', () => {
    const { seq, written, attempt, req, as } = setup();
    const a = req(1, 'a');
    const b = req(1, 'b');
    const c = req(2, 'c');
    // a's first attempt failed and a is parked; b now wants to retry.
    seq.waiting(as(a));
    attempt(b);
    attempt(c);
    assert.deepEqual(written, ['c'], 'b is held, another slot is not');
    attempt(a); // a's backoff ends
    assert.deepEqual(written, ['c', 'a', 'b']);
  });

  it('releases held requests when the blocker settles instead', () => {
    const { seq, written, attempt, req, as } = setup();
    const a = req(5, 'a');
    const b = req(5, 'b');
    seq.waiting(as(a));
    attempt(b);
    assert.deepEqual(written, []);
    seq.left(as(a)); // settled (deadline)
    assert.deepEqual(written, ['b']);
  });

  it('property: in any interleaving of backoffs, each slot\'s writes after a wait follow caller order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ slot: fc.integer({ min: 0, max: 2 }), backoff: fc.boolean() }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 60 }),
        (specs, picks) => {
          const { seq, written, attempt, req, as } = setup();
          const reqs = specs.map((s, i) => req(s.slot, String(i)));
          // Some requests back off first (waiting), the rest try at once in order.
          const parked: Fake[] = [];
          reqs.forEach((r, i) => {
            if (specs[i]!.backoff) {
              seq.waiting(as(r));
              parked.push(r);
            } else attempt(r);
          });
          // Backoffs end in an arbitrary order.
          let k = 0;
          while (parked.length > 0) {
            const [r] = parked.splice((picks[k++] ?? 0) % parked.length, 1);
            attempt(r!);
          }
          assert.equal(written.length, reqs.length, 'everything was written once');
          for (const slot of [0, 1, 2]) {
            const order = written.filter((n) => reqs[Number(n)]!.slot === slot).map(Number);
            assert.deepEqual(order, [...order].sort((x, y) => x - y), `slot ${slot} order ${order}`);
          }
        },
      ),
    );
  });
});
