/**
 * A real express 5 app with express-session and SlotwiseSessionStore, driven
 * over HTTP (node's fetch, cookies kept by the test) on the shared 3×1 cluster.
 */
import assert from 'node:assert/strict';
import { ClusterClient } from '../../../lib/index.js';
import { SlotwiseSessionStore } from '../../../lib/session/express-session.js';
import { Browser, Gate, startApp, type TestApp } from '../../helpers/express-app.js';
import { connectedClient, masterOf, uniquePrefix } from '../../helpers/sessions.js';
import { waitFor } from '../../helpers/wait.js';

describe('express 5 + express-session + SlotwiseSessionStore over HTTP (integration)', function () {
  this.timeout(60_000);
  let client: ClusterClient;
  let store: SlotwiseSessionStore;
  let app: TestApp;

  before(async () => {
    client = await connectedClient();
    store = new SlotwiseSessionStore({ client, prefix: uniquePrefix('express-app'), userId: (s) => s.userId });
    app = await startApp(store);
  });
  after(async () => {
    await app?.close();
    await store?.clear();
    await client?.quit();
  });

  const sidOf = (b: Browser) => decodeURIComponent(b.cookie!.slice('sid='.length)).replace(/^s:/, '').replace(/\..*$/, '');
  const keyOf = (b: Browser) => store.sessions.keys.session(sidOf(b));

  it('login, read, modify, touch, logout', async () => {
    const b = new Browser(app.url);
    assert.deepEqual((await b.request('GET', '/me')).body.userId, null);
    assert.equal(b.cookie, undefined, 'no session is saved for an anonymous visit (saveUninitialized: false)');

    const login = await b.request<{ sid: string }>('POST', '/login', { user: 'ada' });
    assert.equal(login.status, 200);
    assert.equal(sidOf(b), login.body.sid);
    assert.equal(await client.type(keyOf(b)), 'hash');

    const me = await b.request('GET', '/me');
    assert.deepEqual(me.body, { sid: login.body.sid, userId: 'ada', views: 1, cart: [], theme: null });
    await b.request('POST', '/cart', { item: 'book' });
    await b.request('POST', '/cart', { item: 'pen' });
    assert.deepEqual((await b.request('GET', '/me')).body.cart, ['book', 'pen']);
    assert.equal(await client.hget(keyOf(b), 'a:cart'), '["book","pen"]', 'one hash field per attribute');

    // An unmodified request touches the session: its TTL is renewed to the cookie's maxAge.
    const before = await client.pttl(keyOf(b));
    await waitFor(async () => (await client.pttl(keyOf(b))) < before - 300, { what: 'the TTL to run down a little' });
    await b.request('GET', '/peek');
    assert.ok((await client.pttl(keyOf(b))) > before - 300, 'touched');

    const key = keyOf(b);
    assert.equal((await b.request('POST', '/logout')).status, 200);
    assert.equal(await client.exists(key), 0);
    assert.equal((await b.request('GET', '/me')).body.userId, null, 'the old cookie no longer logs in');
  });

  it('regenerate at login: a new session id each time, the old one destroyed', async () => {
    const b = new Browser(app.url);
    await b.request('POST', '/login', { user: 'grace' });
    const firstKey = keyOf(b);
    await b.request('POST', '/theme', { theme: 'dark' });
    await b.request('POST', '/login', { user: 'grace' });
    assert.notEqual(keyOf(b), firstKey);
    assert.equal(await client.exists(firstKey), 0);
    assert.deepEqual((await b.request('GET', '/me')).body, { sid: sidOf(b), userId: 'grace', views: 1, cart: [], theme: null });
  });

  it('sessions of many browsers land on every master; destroyByUser logs a user out everywhere', async () => {
    // Session ids are random, so which master a session lands on is too: with 12 sessions a user
    // misses one of 3 masters with probability 3·(2/3)^12 ≈ 2.3 % (it happened in a full run);
    // with 24 it is 3·(2/3)^24 ≈ 0.002 %.
    const browsers = Array.from({ length: 48 }, () => new Browser(app.url));
    await Promise.all(browsers.map((b, i) => b.request('POST', '/login', { user: i % 2 === 0 ? 'linus' : `other-${i}` })));
    assert.equal(new Set(browsers.map((b) => masterOf(client, keyOf(b)))).size, 3, 'sessions on all 3 masters');
    const linus = browsers.filter((_, i) => i % 2 === 0);
    assert.equal(new Set(linus.map((b) => masterOf(client, keyOf(b)))).size, 3, "linus's 24 sessions span all 3 masters");
    assert.equal((await store.sessions.listByUser('linus')).length, 24);

    assert.equal(await store.sessions.destroyByUser('linus'), 24);
    for (const b of linus) assert.equal((await b.request('GET', '/me')).body.userId, null);
    for (const [i, b] of browsers.entries()) if (i % 2 === 1) assert.equal((await b.request('GET', '/me')).body.userId, `other-${i}`);
  });

  it('two concurrent requests changing different attributes both persist (per-attribute delta saves)', async () => {
    const b = new Browser(app.url);
    await b.request('POST', '/login', { user: 'margaret' });
    const gate = new Gate();
    app.gates.set('delta', gate);
    // A loads the session, then waits; B changes the theme meanwhile; A then saves its change.
    const slow = b.request('POST', '/slow/delta', { attribute: 'cart', value: ['slow-item'] });
    await gate.reached;
    await b.request('POST', '/theme', { theme: 'light' });
    gate.release();
    await slow;
    const me = (await b.request('GET', '/me')).body;
    assert.deepEqual(me.cart, ['slow-item']);
    assert.equal(me.theme, 'light', "B's change survived A's later save (a whole-session save would have reverted it)");
  });

  it('logout racing a slow request: the slow request\'s save cannot bring the session back', async () => {
    const b = new Browser(app.url);
    await b.request('POST', '/login', { user: 'barbara' });
    const key = keyOf(b);
    const gate = new Gate();
    app.gates.set('logout-race', gate);
    const slow = b.request('POST', '/slow/logout-race', { attribute: 'lastPage', value: '/checkout' });
    await gate.reached;
    await b.request('POST', '/logout');
    assert.equal(await client.exists(key), 0);
    gate.release();
    assert.equal((await slow).status, 200);
    assert.equal(await client.exists(key), 0, 'still destroyed after the slow save');
    assert.equal((await b.request('GET', '/me')).body.userId, null);
    assert.deepEqual(await store.sessions.listByUser('barbara'), []);
  });
});
