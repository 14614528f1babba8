/** The per-user index: listByUser / destroyByUser across every master, and the sweep that drops expired entries. */
import assert from 'node:assert/strict';
import { ClusterClient, SessionStore } from '../../../lib/index.js';
import { connectedClient, masterOf, uniquePrefix } from '../../helpers/sessions.js';
import { waitFor } from '../../helpers/wait.js';

describe('SessionStore user index (integration)', function () {
  this.timeout(60_000);
  let client: ClusterClient;
  let store: SessionStore;

  before(async () => {
    client = await connectedClient();
  });
  beforeEach(() => {
    // No grace: tests wait for real expiry and sweep right after (writes here are never in flight).
    store = new SessionStore(client, { prefix: uniquePrefix('users'), ttlMs: 60_000, indexGraceMs: 0 });
  });
  afterEach(async () => {
    await store.clear();
    await store.close();
  });
  after(async () => {
    await client?.quit();
  });

  it('destroyByUser removes every session of a user spread over all masters, and no one else\'s', async () => {
    const mine = await Promise.all(Array.from({ length: 30 }, (_, i) => store.create({ device: i }, { userId: 'alice@example.com' })));
    const theirs = await Promise.all(Array.from({ length: 5 }, () => store.create({}, { userId: 'bob' })));
    const anonymous = await store.create({ guest: true });
    assert.equal(new Set(mine.map((id) => masterOf(client, store.keys.session(id)))).size, 3, "alice's sessions are on all 3 masters");
    assert.equal((await store.listByUser('alice@example.com')).length, 30);

    assert.equal(await store.destroyByUser('alice@example.com'), 30);
    for (const id of mine) assert.equal(await store.get(id), null);
    assert.deepEqual(await store.listByUser('alice@example.com'), []);
    assert.equal(await client.exists(store.keys.userIndex('alice@example.com')), 0, 'the index is gone with its last entry');
    assert.equal((await store.listByUser('bob')).length, 5);
    for (const id of theirs) assert.notEqual(await store.get(id), null);
    assert.deepEqual(await store.get(anonymous), { guest: true });
    // A slow save of one of alice's sessions cannot bring it back.
    assert.equal(await store.set(mine[3]!, { device: 3, stillHere: true }), false);
  });

  it('owner changes move a session between indexes; listByUser verifies entries against the session', async () => {
    const id = await store.create({ a: 1 }, { userId: 'u-old' });
    assert.equal(await store.patch(id, { a: 2 }, { userId: 'u-new' }), true);
    assert.deepEqual((await store.listByUser('u-new')).map((e) => e.id), [id]);
    assert.deepEqual(await store.listByUser('u-old'), [], 'the stale entry is not reported');
    assert.equal(await store.destroyByUser('u-old'), 0, "destroyByUser never touches a session someone else owns now");
    assert.notEqual(await store.get(id), null);
    assert.equal(await store.set(id, { a: 3 }, { userId: null }), true);
    assert.deepEqual(await store.listByUser('u-new'), []);
    assert.equal((await store.getEntry(id))!.userId, undefined);
    // Owners are arbitrary strings, separators included.
    const odd = await store.create({}, { userId: 'tenant|42|ada@example.com' });
    assert.equal((await store.getEntry(odd))!.userId, 'tenant|42|ada@example.com');
    assert.deepEqual((await store.listByUser('tenant|42|ada@example.com')).map((e) => e.id), [odd]);
    assert.equal(await store.destroyByUser('tenant|42|ada@example.com'), 1);
  });

  it('expired sessions leave the user index within one sweep; live and touched ones stay', async () => {
    const short = await Promise.all(Array.from({ length: 12 }, () => store.create({}, { userId: 'carol', ttlMs: 300 })));
    const touched = await store.create({}, { userId: 'carol', ttlMs: 300 });
    const long = await store.create({}, { userId: 'carol', ttlMs: 60_000 });
    const other = await Promise.all(Array.from({ length: 3 }, () => store.create({}, { userId: 'dave', ttlMs: 300 })));
    await store.touch(touched, { ttlMs: 60_000 });
    const index = store.keys.userIndex('carol');
    assert.equal(await client.zcard(index), 14);

    const gone = async (ids: string[]) => (await Promise.all(ids.map((id) => client.exists(store.keys.session(id))))).every((n) => n === 0);
    await waitFor(() => gone([...short, ...other]), { timeoutMs: 15_000, what: 'the short sessions to expire' });
    await waitFor(async () => Number(await client.call('zcount', index, '-inf', Date.now() - 50)) >= 13, { what: 'the entries to be due' });

    const result = await store.sweep();
    assert.ok(result.indexes >= 2, `visited ${result.indexes} indexes`);
    assert.equal(result.removed, 15, 'twelve of carol, three of dave');
    assert.deepEqual(((await client.call('zrange', index, 0, -1)) as string[]).sort(), [touched, long].sort());
    assert.equal(await client.exists(store.keys.userIndex('dave')), 0);
    assert.deepEqual((await store.listByUser('carol')).map((e) => e.id).sort(), [touched, long].sort());
    const again = await store.sweep();
    assert.equal(again.removed, 0, 'the touched session was re-scored, not removed');
  });

  it('an entry added for a write still in flight is never swept (its score lies in the future)', async () => {
    const grace = new SessionStore(client, { prefix: uniquePrefix('users-grace'), ttlMs: 60_000, indexGraceMs: 10_000 });
    try {
      // The index entry exists, the session write has not landed yet: exactly what a sweep may see mid-create.
      await client.zadd(grace.keys.userIndex('erin'), Date.now() + 300 + 10_000, 'in-flight-id');
      const result = await grace.sweep();
      assert.equal(result.removed, 0);
      assert.equal(await client.zcard(grace.keys.userIndex('erin')), 1);
      await grace.create({}, { id: 'in-flight-id', userId: 'erin', ttlMs: 300 });
      assert.equal((await grace.listByUser('erin')).length, 1);
    } finally {
      await grace.clear();
    }
  });

  it('a background sweeper (sweepIntervalMs) prunes without being called', async () => {
    const swept = new SessionStore(client, { prefix: uniquePrefix('users-bg'), indexGraceMs: 0, sweepIntervalMs: 200 });
    const errors: Error[] = [];
    swept.on('error', (e) => errors.push(e));
    try {
      await Promise.all(Array.from({ length: 4 }, () => swept.create({}, { userId: 'frank', ttlMs: 200 })));
      await waitFor(async () => errors.length > 0 || (await client.exists(swept.keys.userIndex('frank'))) === 0, { timeoutMs: 20_000, what: 'the sweeper to empty the index' });
      assert.deepEqual(errors, []);
    } finally {
      await swept.close();
      await swept.clear();
    }
  });
});
