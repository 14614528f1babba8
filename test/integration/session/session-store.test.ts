/** SessionStore on the shared cluster: lifecycle, per-attribute writes, expiry, tombstones, regenerate. */
import assert from 'node:assert/strict';
import { ClusterClient, SessionConflictError, SessionExistsError, SessionStore } from '../../../lib/index.js';
import { connectedClient, keysUnder, masterOf, uniquePrefix } from '../../helpers/sessions.js';
import { waitFor } from '../../helpers/wait.js';

describe('SessionStore (integration)', function () {
  this.timeout(60_000);
  let client: ClusterClient;
  let store: SessionStore;
  let prefix: string;

  before(async () => {
    client = await connectedClient();
  });
  beforeEach(() => {
    prefix = uniquePrefix('store');
    store = new SessionStore(client, { prefix, ttlMs: 60_000 });
  });
  afterEach(async () => {
    await store.clear();
    await store.close();
  });
  after(async () => {
    await client?.quit();
  });

  it('creates sessions under 144-bit CSPRNG ids, one hash per session in the id\'s slot, on every master', async () => {
    const ids = await Promise.all(Array.from({ length: 30 }, (_, i) => store.create({ n: i, cart: { items: [i] } })));
    assert.equal(new Set(ids).size, 30);
    for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{24}$/, '18 random bytes, base64url');
    assert.equal(new Set(ids.map((id) => masterOf(client, store.keys.session(id)))).size, 3, 'sessions land on every master');
    assert.deepEqual(await store.get(ids[7]!), { n: 7, cart: { items: [7] } });
    assert.equal(await client.type(store.keys.session(ids[7]!)), 'hash');
    const entry = (await store.getEntry(ids[7]!))!;
    assert.equal(entry.version, 1);
    assert.ok(entry.expiresAt > Date.now() + 50_000 && entry.expiresAt <= Date.now() + 61_000);
    assert.equal(await store.get('no-such-session'), null);
  });

  it('create with a supplied id refuses an existing id with SessionExistsError and leaves it untouched', async () => {
    const id = await store.create({ a: 1 }, { id: 'fixed-id-1' });
    assert.equal(id, 'fixed-id-1');
    await assert.rejects(store.create({ a: 2 }, { id }), (e: unknown) => e instanceof SessionExistsError && e.reason === 'exists' && e.code === 'ERR_SLOTWISE_SESSION_EXISTS');
    assert.deepEqual(await store.get(id), { a: 1 });
  });

  it('set replaces every attribute; patch writes only the given ones and removes undefined ones', async () => {
    const id = await store.create({ a: 1, b: 2, c: 3 });
    assert.equal(await store.set(id, { a: 10, d: 4 }), true);
    assert.deepEqual(await store.get(id), { a: 10, d: 4 });
    assert.equal(await store.patch(id, { b: 'two', d: undefined }), true);
    assert.deepEqual(await store.get(id), { a: 10, b: 'two' });
    assert.equal((await store.getEntry(id))!.version, 3);
  });

  it('two concurrent patches of different attributes both persist (and 50 at once)', async () => {
    const id = await store.create({ base: true });
    const [one, two] = await Promise.all([store.patch(id, { cart: ['book'] }), store.patch(id, { theme: 'dark' })]);
    assert.deepEqual([one, two], [true, true]);
    assert.deepEqual(await store.get(id), { base: true, cart: ['book'], theme: 'dark' });
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.patch(id, { [`k${i}`]: i })));
    const data = (await store.get(id))!;
    for (let i = 0; i < 50; i++) assert.equal(data[`k${i}`], i);
  });

  it('compare-and-set with expectedVersion: a stale version fails with SessionConflictError and writes nothing', async () => {
    const id = await store.create({ a: 1 });
    const { version } = (await store.getEntry(id))!;
    assert.equal(await store.patch(id, { a: 2 }, { expectedVersion: version }), true);
    await assert.rejects(store.set(id, { a: 3 }, { expectedVersion: version }), (e: unknown) => e instanceof SessionConflictError && e.currentVersion === version + 1);
    assert.deepEqual(await store.get(id), { a: 2 });
  });

  it('a save never brings back a destroyed session: set/patch after destroy return false, a racing save loses every time', async () => {
    const id = await store.create({ user: 'ada' });
    const loaded = (await store.get(id))!;
    assert.equal(await store.destroy(id), true);
    // The slow request finishes after logout and saves what it loaded.
    assert.equal(await store.set(id, { ...loaded, lastPage: '/x' }), false);
    assert.equal(await store.patch(id, { lastPage: '/y' }), false);
    assert.equal(await store.touch(id), false);
    assert.equal(await store.upsert(id, loaded), false, 'the tombstone also stops a first save of that id');
    await assert.rejects(store.create({}, { id }), (e: unknown) => e instanceof SessionExistsError && e.reason === 'destroyed');
    assert.equal(await store.get(id), null);
    assert.equal(await client.exists(store.keys.session(id)), 0);
    assert.ok((await client.pttl(store.keys.tombstone(id))) > 0);

    // Real races, both orders interleaved by the server: the session always ends destroyed.
    for (let i = 0; i < 40; i++) {
      const sid = await store.create({ n: i });
      const ops = [store.set(sid, { n: i, saved: true }), store.destroy(sid), store.patch(sid, { late: i })];
      await Promise.all(i % 2 === 0 ? ops : ops.reverse());
      assert.equal(await store.get(sid), null, `race ${i}`);
    }
  });

  it('touch slides the idle expiry; ttlMs per call changes it', async () => {
    const id = await store.create({ a: 1 }, { ttlMs: 5_000 });
    assert.ok((await client.pttl(store.keys.session(id))) <= 5_000);
    assert.equal(await store.touch(id, { ttlMs: 40_000 }), true);
    const pttl = await client.pttl(store.keys.session(id));
    assert.ok(pttl > 30_000 && pttl <= 40_000, `pttl ${pttl}`);
    await store.patch(id, { b: 2 });
    assert.ok((await client.pttl(store.keys.session(id))) > 30_000, 'the new idle timeout is kept by later writes');
  });

  it('an absolute lifetime caps sliding expiry: touches cannot keep the session past it', async () => {
    const id = await store.create({ a: 1 }, { ttlMs: 60_000, absoluteTtlMs: 1_500 });
    assert.ok((await client.pttl(store.keys.session(id))) <= 1_500);
    assert.equal(await store.touch(id, { ttlMs: 60_000 }), true);
    assert.ok((await client.pttl(store.keys.session(id))) <= 1_500, 'touch stays within the absolute deadline');
    await waitFor(async () => (await store.get(id)) === null, { timeoutMs: 10_000, what: 'the absolute lifetime to end the session' });
    assert.equal(await store.touch(id), false);
    assert.equal(await store.patch(id, { b: 1 }), false);
  });

  it('regenerate moves data, owner and expiry to a new id in another slot (no RENAME) and tombstones the old id', async () => {
    const id = await store.create({ cart: [1, 2] }, { userId: 'regen-user', ttlMs: 30_000 });
    const before = (await store.getEntry(id))!;
    const newId = (await store.regenerate(id))!;
    assert.notEqual(newId, id);
    const after = (await store.getEntry(newId))!;
    assert.deepEqual(after.data, { cart: [1, 2] });
    assert.equal(after.userId, 'regen-user');
    assert.equal(after.createdAt, before.createdAt);
    assert.ok(after.expiresAt <= before.expiresAt + 50);
    assert.equal(await store.get(id), null);
    assert.equal(await store.set(id, { cart: [] }), false, 'the old id stays dead');
    assert.deepEqual((await store.listByUser('regen-user')).map((e) => e.id), [newId]);
    assert.equal(await store.regenerate('missing-session'), null);
  });

  it('all(), ids() and length() see every live session on every master', async () => {
    const ids = await Promise.all(Array.from({ length: 25 }, (_, i) => store.create({ i })));
    await store.destroy(ids[0]!);
    assert.equal(await store.length(), 24);
    assert.deepEqual((await store.ids()).sort(), ids.slice(1).sort());
    const all = await store.all();
    assert.equal(all.length, 24);
    assert.deepEqual(all.find((e) => e.id === ids[5])!.data, { i: 5 });
    assert.ok((await keysUnder(client, prefix)).some((k) => k.endsWith(':destroyed')), 'the tombstone exists but is not a session');
  });
});
