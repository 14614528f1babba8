/**
 * The cheaper write paths (docs/08-sessions.md, "Cost"): a replace that
 * overwrites the hash in place when its attribute count is known, and an
 * express-session save of an unchanged session that only slides the expiry.
 * Each must keep the guarantees of the full path: stale attributes never
 * survive a replace, a destroyed session is never brought back, and a save
 * never undoes another request's change.
 */
import assert from 'node:assert/strict';
import { Cookie, type SessionData } from 'express-session';
import { ClusterClient, SessionStore } from '../../../lib/index.js';
import { SlotwiseSessionStore } from '../../../lib/session/express-session.js';
import { connectedClient, keysUnder, uniquePrefix } from '../../helpers/sessions.js';

type Sess = SessionData & Record<string, unknown>;
/** A session as express-session saves it: its cookie is a Cookie (here a browser-session one, no expiry). */
const sess = (attrs: Record<string, unknown>): Sess => ({ cookie: new Cookie(), ...attrs }) as unknown as Sess;
const COOKIE = JSON.parse(JSON.stringify(new Cookie())) as unknown;

describe('SessionStore write fast paths (integration)', function () {
  this.timeout(60_000);
  let client: ClusterClient;
  let store: SessionStore;

  before(async () => {
    client = await connectedClient();
  });
  beforeEach(() => {
    store = new SessionStore(client, { prefix: uniquePrefix('fast'), ttlMs: 60_000 });
  });
  afterEach(async () => {
    await store.clear();
    await store.close();
  });
  after(async () => {
    await client?.quit();
  });

  const attributeFields = async (id: string) => ((await client.hkeys(store.keys.session(id))) as string[]).filter((f) => f.startsWith('a:')).sort();

  it('set replaces in place, yet no attribute of the previous version survives, whatever came before', async () => {
    const id = await store.create({ a: 1, b: 2, c: 3 });
    // Fewer attributes, one new: b and c must go.
    assert.equal(await store.set(id, { a: 10, d: 4 }), true);
    assert.deepEqual(await store.get(id), { a: 10, d: 4 });
    // Same number of attributes, other names.
    assert.equal(await store.set(id, { x: 1, y: 2 }), true);
    assert.deepEqual(await store.get(id), { x: 1, y: 2 });
    // Same names.
    assert.equal(await store.set(id, { x: 5, y: 6 }), true);
    assert.deepEqual(await store.get(id), { x: 5, y: 6 });
    // After a patch (which does not keep the count) and with more attributes.
    assert.equal(await store.patch(id, { z: 3 }), true);
    assert.equal(await store.set(id, { x: 7, p: 1, q: 2 }), true);
    assert.deepEqual(await store.get(id), { x: 7, p: 1, q: 2 });
    // A hash from a writer that keeps no count at all (an older slotwise during a rolling upgrade).
    await client.hdel(store.keys.session(id), 'n');
    await client.hset(store.keys.session(id), 'a:old', '"left over"');
    assert.equal(await store.set(id, { x: 8 }), true);
    assert.deepEqual(await store.get(id), { x: 8 });
    assert.deepEqual(await attributeFields(id), ['a:x']);
    assert.equal((await store.getEntry(id))!.version, 7);
  });

  it('a regenerated session replaces correctly too (the copy starts at version 1 with the original\'s attributes)', async () => {
    const id = await store.create({ a: 1 }); // version 1, count 1
    await store.patch(id, { b: 2 }); // version 2, two attributes
    const copy = (await store.regenerate(id))!;
    assert.equal((await store.getEntry(copy))!.version, 1);
    assert.equal(await store.set(copy, { a: 3 }), true);
    assert.deepEqual(await store.get(copy), { a: 3 });
    assert.deepEqual(await attributeFields(copy), ['a:a']);
  });

  it('upsert of an existing id replaces it the same way; of a destroyed id writes nothing', async () => {
    const id = await store.create({ a: 1, b: 2 });
    assert.equal(await store.upsert(id, { b: 3, c: 4 }), true);
    assert.deepEqual(await store.get(id), { b: 3, c: 4 });
    await store.destroy(id);
    assert.equal(await store.upsert(id, { b: 3, c: 4 }), false);
    assert.equal(await client.exists(store.keys.session(id)), 0);
  });
});

describe('SlotwiseSessionStore: saving an unchanged session (integration)', function () {
  this.timeout(60_000);
  let client: ClusterClient;
  let store: SlotwiseSessionStore;

  before(async () => {
    client = await connectedClient();
  });
  beforeEach(() => {
    store = new SlotwiseSessionStore({ client, prefix: uniquePrefix('resave'), ttlMs: 60_000 });
  });
  afterEach(async () => {
    await store.clear();
  });
  after(async () => {
    await client?.quit();
  });

  /** What express-session does: get, then build the request's Session from the data. */
  async function load(sid: string): Promise<Sess> {
    const data = await store.get(sid);
    assert.ok(data, `session ${sid} exists`);
    return store.createSession({ sessionID: sid } as never, data) as unknown as Sess;
  }
  const key = (sid: string) => store.sessions.keys.session(sid);

  it('slides the expiry without a write: same version, same data', async () => {
    await store.set('u1', sess({ cart: ['book'] }));
    const before = (await store.sessions.getEntry('u1'))!;
    await client.pexpire(key('u1'), 5_000);
    const session = await load('u1');
    await store.set('u1', session); // resave: true, nothing changed
    const after = (await store.sessions.getEntry('u1'))!;
    assert.ok((await client.pttl(key('u1'))) > 55_000, 'the idle expiry slid back to ttlMs');
    assert.equal(after.version, before.version, 'no attribute was written');
    assert.equal(after.updatedAt, before.updatedAt);
    assert.deepEqual(after.data, { cookie: COOKIE, cart: ['book'] });
  });

  it('cannot bring back a session destroyed (logout) after it was loaded', async () => {
    await store.set('u2', sess({ userId: 'ann' }));
    const session = await load('u2');
    await store.destroy('u2');
    await store.set('u2', session);
    assert.equal(await store.get('u2'), null);
    assert.deepEqual(await keysUnder(client, store.sessions.keys.prefix), [store.sessions.keys.tombstone('u2')]);
  });

  it('does not undo a change another request saved meanwhile', async () => {
    await store.set('u3', sess({ theme: 'dark', cart: [] }));
    const slow = await load('u3'); // request A loads and changes nothing
    const fast = await load('u3'); // request B changes the theme and saves first
    fast.theme = 'light';
    await store.set('u3', fast);
    await store.set('u3', slow);
    assert.deepEqual(await store.get('u3'), { cookie: COOKIE, theme: 'light', cart: [] });
    // A later change on the slow request is still a delta of its own attribute only.
    slow.cart = ['pen'];
    await store.set('u3', slow);
    assert.deepEqual(await store.get('u3'), { cookie: COOKIE, theme: 'light', cart: ['pen'] });
  });
});

describe('SessionStore sliding expiry precision (integration)', function () {
  this.timeout(60_000);
  let client: ClusterClient;
  let store: SessionStore;

  before(async () => {
    client = await connectedClient();
  });
  beforeEach(() => {
    store = new SessionStore(client, { prefix: uniquePrefix('slide'), ttlMs: 100_000 });
  });
  afterEach(async () => {
    await store.clear();
    await store.close();
  });
  after(async () => {
    await client?.quit();
  });

  const pttl = (id: string) => client.pttl(store.keys.session(id));

  it('a touch or write leaves an expiry already within 1/1000 of the TTL below the new one, and moves it otherwise', async () => {
    const id = await store.create({ a: 1 });
    // 50 ms short of the full 100 s: within the 100 ms precision, so it stays.
    await client.pexpire(store.keys.session(id), 99_950);
    assert.equal(await store.touch(id), true);
    assert.ok((await pttl(id)) <= 99_950, 'touch did not move an expiry within the precision');
    assert.equal(await store.patch(id, { b: 2 }), true);
    assert.ok((await pttl(id)) <= 99_950, 'a write did not move it either');
    assert.deepEqual(await store.get(id), { a: 1, b: 2 }, 'the write itself happened');
    // 1 s short: beyond the precision, so both slide it back to the full TTL.
    await client.pexpire(store.keys.session(id), 99_000);
    await store.touch(id);
    assert.ok((await pttl(id)) > 99_900, 'touch slid an expiry 1 s short');
    await client.pexpire(store.keys.session(id), 99_000);
    await store.set(id, { c: 3 });
    assert.ok((await pttl(id)) > 99_900, 'a write slid an expiry 1 s short');
  });

  it('never leaves an expiry later than the TTL asked for (a shorter ttlMs, or one set by hand)', async () => {
    const id = await store.create({ a: 1 });
    await client.pexpire(store.keys.session(id), 500_000);
    await store.touch(id);
    assert.ok((await pttl(id)) <= 100_000);
    await store.touch(id, { ttlMs: 20_000 });
    assert.ok((await pttl(id)) <= 20_000);
    await store.patch(id, { b: 1 }, { ttlMs: 10_000 });
    assert.ok((await pttl(id)) <= 10_000);
  });
});
