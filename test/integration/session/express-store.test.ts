/**
 * The express-session Store contract on the shared cluster: the lifecycle
 * cases connect-redis's own suite covers (written anew here), run against
 * SlotwiseSessionStore, with callbacks and with promises.
 */
import assert from 'node:assert/strict';
import { Cookie, type SessionData } from 'express-session';
import { ClusterClient, InvalidArgumentError, SESSION_DEFAULTS } from '../../../lib/index.js';
import { SlotwiseSessionStore } from '../../../lib/session/express-session.js';
import { connectedClient, keysUnder, masterOf, uniquePrefix } from '../../helpers/sessions.js';

type Sess = SessionData & Record<string, unknown>;
const sess = (extra: Record<string, unknown> = {}, cookie: Record<string, unknown> = { originalMaxAge: null }): Sess => ({ ...extra, cookie } as unknown as Sess);

/** Promisifies a callback-style Store method call. */
function cb<T>(f: (done: (err: unknown, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => f((err, value) => (err ? reject(err as Error) : resolve(value as T))));
}

describe('SlotwiseSessionStore: express-session Store contract (integration)', function () {
  this.timeout(60_000);
  let client: ClusterClient;
  const stores: SlotwiseSessionStore[] = [];

  function newStore(opts: Partial<ConstructorParameters<typeof SlotwiseSessionStore>[0]> = {}): SlotwiseSessionStore {
    const store = new SlotwiseSessionStore({ client, prefix: uniquePrefix('express'), ...opts });
    stores.push(store);
    return store;
  }
  const pttl = (store: SlotwiseSessionStore, sid: string) => client.pttl(store.sessions.keys.session(sid));

  before(async () => {
    client = await connectedClient();
  });
  after(async () => {
    for (const s of stores) await s.clear();
    await client?.quit();
  });

  it('has connect-redis-like defaults (one-day TTL when the cookie has none, touch on, strict JSON)', () => {
    const store = new SlotwiseSessionStore({ client });
    assert.equal(store.sessions.options.prefix, 'sess:');
    assert.equal(store.sessions.options.ttlMs, 86_400_000);
    assert.equal(store.disableTouch, false);
    assert.equal(store.sessions.options.serializer, SESSION_DEFAULTS.serializer);
  });

  for (const style of ['promises', 'callbacks'] as const) {
    it(`runs the whole session lifecycle on a cluster (${style})`, async () => {
      const store = newStore();
      const api = {
        get: (sid: string) => (style === 'promises' ? store.get(sid) : cb<Sess | null>((d) => void store.get(sid, d))),
        set: (sid: string, s: Sess) => (style === 'promises' ? store.set(sid, s) : cb<void>((d) => void store.set(sid, s, d))),
        touch: (sid: string, s: Sess) => (style === 'promises' ? store.touch(sid, s) : cb<void>((d) => void store.touch(sid, s, d))),
        destroy: (sid: string) => (style === 'promises' ? store.destroy(sid) : cb<void>((d) => void store.destroy(sid, d))),
        length: () => (style === 'promises' ? store.length() : cb<number>((d) => void store.length(d))),
        ids: () => (style === 'promises' ? store.ids() : cb<string[]>((d) => void store.ids(d))),
        all: () => (style === 'promises' ? store.all() : cb<Sess[]>((d) => void store.all(d))),
        clear: () => (style === 'promises' ? store.clear() : cb<void>((d) => void store.clear(d))),
      };
      await api.clear();

      // A session whose cookie has no expiry lives the default day.
      const first = sess({ foo: 'bar' });
      await api.set('123', first);
      assert.deepEqual(await api.get('123'), first);
      assert.ok((await pttl(store, '123')) >= 86_399_000);

      // The TTL follows cookie.expires …
      const in60 = new Date(Date.now() + 60_000);
      await api.set('456', sess({}, { originalMaxAge: null, expires: in60 }));
      const t1 = await pttl(store, '456');
      assert.ok(t1 <= 60_000 && t1 > 55_000, `pttl ${t1}`);
      // … and touch() slides it.
      await api.touch('456', sess({}, { originalMaxAge: null, expires: new Date(Date.now() + 90_000) }));
      assert.ok((await pttl(store, '456')) > 60_000);

      assert.equal(await api.length(), 2);
      assert.deepEqual((await api.ids()).sort(), ['123', '456']);
      const all = (await api.all()).sort((a, b) => String(a.id).localeCompare(String(b.id)));
      assert.deepEqual(all, [
        { id: '123', foo: 'bar', cookie: { originalMaxAge: null } },
        { id: '456', cookie: { originalMaxAge: null, expires: in60.toISOString() } },
      ]);
      assert.notEqual(masterOf(client, store.sessions.keys.session('123')), undefined);

      await api.destroy('456');
      assert.equal(await api.length(), 1);
      assert.equal(await api.get('456'), null);
      await api.clear();
      assert.equal(await api.length(), 0);

      // Bulk: 1000 sessions over every master, then cleared slot by slot.
      const cookie = new Cookie();
      cookie.expires = new Date(Date.now() + 60_000);
      await Promise.all(Array.from({ length: 1000 }, (_, i) => api.set(`s${i}`, { cookie } as Sess)));
      assert.equal(new Set(Array.from({ length: 1000 }, (_, i) => masterOf(client, store.sessions.keys.session(`s${i}`)))).size, 3);
      assert.equal(await api.length(), 1000);
      await api.clear();
      assert.equal(await api.length(), 0);

      // A cookie that expires in the future keeps the session; one in the past destroys it.
      await api.set('789', sess({}, { originalMaxAge: null, expires: new Date(Date.now() + 90_000) }));
      assert.equal(await api.length(), 1);
      await api.set('789', sess({}, { originalMaxAge: null, expires: new Date(Date.now() - 90_000) }));
      assert.equal(await api.length(), 0);
      await api.set('790', sess({}, { originalMaxAge: null, expires: new Date(Date.now() + 90_000) }));
      await api.touch('790', sess({}, { originalMaxAge: null, expires: new Date(Date.now() - 1) }));
      assert.equal(await api.get('790'), null, 'touch with an expired cookie destroys too');
    });
  }

  it('takes the TTL from cookie.maxAge when there is no expires, and from a ttlMs function over the cookie', async () => {
    const store = newStore();
    await store.set('m', sess({}, { originalMaxAge: 30_000, maxAge: 30_000 }));
    const t = await pttl(store, 'm');
    assert.ok(t <= 30_000 && t > 25_000, `pttl ${t}`);
    const fn = newStore({ ttlMs: (s) => ((s as Sess).premium ? 50_000 : 5_000) });
    await fn.set('p', sess({ premium: true }, { originalMaxAge: null, expires: new Date(Date.now() + 1_000) }));
    assert.ok((await pttl(fn, 'p')) > 45_000);
  });

  it('disableTouch makes touch() a no-op', async () => {
    const store = newStore({ disableTouch: true });
    await store.set('d', sess({}, { originalMaxAge: null, expires: new Date(Date.now() + 10_000) }));
    await store.touch('d', sess({}, { originalMaxAge: null, expires: new Date(Date.now() + 90_000) }));
    assert.ok((await pttl(store, 'd')) <= 10_000);
  });

  it('uses a custom serializer for every attribute', async () => {
    const serializer = {
      stringify: (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64'),
      parse: (t: string) => JSON.parse(Buffer.from(t, 'base64').toString()) as unknown,
    };
    const store = newStore({ serializer });
    const s = sess({ user: { name: 'ada' } });
    await store.set('ser', s);
    const raw = await client.hget(store.sessions.keys.session('ser'), 'a:user');
    assert.equal(raw, Buffer.from('{"name":"ada"}').toString('base64'));
    assert.deepEqual(await store.get('ser'), s);
  });

  it('reports bad input through the callback (and rejects without one), writing nothing', async () => {
    const store = newStore();
    const prefix = store.sessions.options.prefix;
    await assert.rejects(cb((d) => void store.set('bad', sess({ fn: () => 1 }), d)), (e: unknown) => e instanceof InvalidArgumentError && /"fn"/.test(e.message));
    await assert.rejects(store.set('bad{tag}', sess()), InvalidArgumentError);
    await assert.rejects(cb((d) => void store.get('x'.repeat(5000), d)), InvalidArgumentError);
    assert.deepEqual(await keysUnder(client, prefix), []);
  });
});
