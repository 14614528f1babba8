import assert from 'node:assert/strict';
import { MaxRedirectionsError, SlotMigrationStuckError } from '../../../lib/errors.js';
import { MigrationWatch, type MigrationClearedInfo, type MigrationStuckInfo } from '../../../lib/router/migration-watch.js';

const A = '127.0.0.1:7000';
const B = '127.0.0.1:7001';
const C = '127.0.0.1:7002';

function setup(maxChain = 16) {
  let now = 1_000;
  const stuck: MigrationStuckInfo[] = [];
  const cleared: MigrationClearedInfo[] = [];
  const watch = new MigrationWatch(maxChain, { stuck: (i) => stuck.push(i), cleared: (i) => cleared.push(i) }, () => now);
  return { watch, stuck, cleared, advance: (ms: number) => (now += ms) };
}

describe('MigrationWatch (unit)', () => {
  it('follows an ASK and a MOVED that lead somewhere new', () => {
    const { watch, stuck } = setup();
    const req = {};
    assert.equal(watch.redirect(req, 1, 5, A, B, 'ASK 5 b', 'GET', 1), undefined);
    assert.equal(watch.redirect(req, 2, 5, B, C, 'MOVED 5 c', 'GET', 2), undefined);
    assert.equal(stuck.length, 0);
    assert.equal(watch.open, 0);
  });

  it('an ASK target answering MOVED back to the asking node is a stuck migration: one event per episode, cleared when served', () => {
    const { watch, stuck, cleared, advance } = setup();
    const first = {};
    assert.equal(watch.redirect(first, 1, 42, A, B, 'ASK 42 b', 'GET', 1), undefined);
    const err = watch.redirect(first, 2, 42, B, A, 'MOVED 42 a', 'GET', 2);
    assert.ok(err instanceof SlotMigrationStuckError);
    assert.equal(err.code, 'ERR_SLOTWISE_SLOT_MIGRATION_STUCK');
    assert.deepEqual([err.slot, err.source, err.target, err.command], [42, A, B, 'GET']);
    assert.match(err.message, /redis-cli --cluster fix 127\.0\.0\.1:7000/);
    assert.match(err.message, /slotwise cluster fix --port 7000/);
    assert.deepEqual(stuck, [{ slot: 42, source: A, target: B, since: 1_000 }]);

    // The same loop again (after a wait: a new chain from the map) and from another request: same episode.
    advance(300);
    for (const [req, attempt] of [[first, 3], [{}, 1]] as const) {
      assert.equal(watch.redirect(req, attempt, 42, A, B, 'ASK 42 b', 'GET', 3), undefined);
      assert.ok(watch.redirect(req, attempt + 1, 42, B, A, 'MOVED 42 a', 'GET', 4) instanceof SlotMigrationStuckError);
    }
    assert.equal(stuck.length, 1, 'one event per episode');
    assert.equal(watch.open, 1);

    watch.served(7); // another slot: nothing
    assert.equal(cleared.length, 0);
    advance(200);
    watch.served(42);
    assert.deepEqual(cleared, [{ slot: 42, source: A, target: B, since: 1_000, durationMs: 500 }]);
    assert.equal(watch.open, 0);

    // A new loop later is a new episode.
    watch.redirect(first, 10, 42, A, B, 'ASK 42 b', 'GET', 5);
    watch.redirect(first, 11, 42, B, A, 'MOVED 42 a', 'GET', 6);
    assert.equal(stuck.length, 2);
  });

  it('a MOVED cycle seen from either end is one episode', () => {
    const { watch, stuck } = setup();
    const r1 = {};
    const r2 = {};
    watch.redirect(r1, 1, 9, A, B, 'MOVED 9 b', 'SET', 1);
    assert.ok(watch.redirect(r1, 2, 9, B, A, 'MOVED 9 a', 'SET', 2) instanceof SlotMigrationStuckError);
    watch.redirect(r2, 1, 9, B, A, 'MOVED 9 a', 'SET', 1);
    assert.ok(watch.redirect(r2, 2, 9, A, B, 'MOVED 9 b', 'SET', 2) instanceof SlotMigrationStuckError);
    assert.equal(stuck.length, 1);
  });

  it('a longer cycle A→B→C→A is found too', () => {
    const { watch } = setup();
    const req = {};
    watch.redirect(req, 1, 1, A, B, 'MOVED 1 b', 'GET', 1);
    watch.redirect(req, 2, 1, B, C, 'MOVED 1 c', 'GET', 2);
    const err = watch.redirect(req, 3, 1, C, A, 'MOVED 1 a', 'GET', 3);
    assert.ok(err instanceof SlotMigrationStuckError);
    assert.deepEqual([err.source, err.target], [A, B]);
  });

  it('hops that are not consecutive attempts (a wait in between) start a new chain', () => {
    const { watch } = setup();
    const req = {};
    watch.redirect(req, 1, 1, A, B, 'ASK 1 b', 'GET', 1);
    // attempt 2 failed with a connection error; attempt 3 came back through the map
    assert.equal(watch.redirect(req, 3, 1, B, A, 'MOVED 1 a', 'GET', 2), undefined);
  });

  it('a node redirecting to itself is an endless chain, not a migration: MaxRedirectionsError after maxChain hops', () => {
    const { watch, stuck } = setup(3);
    const req = {};
    for (let i = 1; i <= 3; i++) assert.equal(watch.redirect(req, i, 1, A, A, 'ASK 1 a', 'GET', i), undefined);
    const err = watch.redirect(req, 4, 1, A, A, 'ASK 1 a', 'GET', 4);
    assert.ok(err instanceof MaxRedirectionsError);
    assert.equal(err.redirections, 4);
    assert.match(String((err.cause as Error).message), /ASK 1/);
    assert.equal(stuck.length, 0);
    // The chain restarts after the wait.
    assert.equal(watch.redirect(req, 5, 1, A, A, 'ASK 1 a', 'GET', 5), undefined);
  });
});
