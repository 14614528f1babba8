/** Whole-store operations over 10,000 sessions on 3 masters: exact counts, no CROSSSLOT. */
import assert from 'node:assert/strict';
import ConnectRedis7 from 'connect-redis-7';
import { Cluster } from 'ioredis';
import { ClusterClient, SessionStore, slotOf } from '../../../lib/index.js';
import { sharedCluster } from '../../helpers/cluster.js';
import { connectedClient, keysUnder, masterOf, uniquePrefix } from '../../helpers/sessions.js';

describe('SessionStore bulk operations (integration)', function () {
  this.timeout(120_000);
  let client: ClusterClient;
  let store: SessionStore;
  let prefix: string;
  const errors: Error[] = [];

  before(async () => {
    client = await connectedClient();
    client.on('error', (e) => errors.push(e));
    prefix = uniquePrefix('bulk');
    store = new SessionStore(client, { prefix, ttlMs: 120_000 });
  });
  after(async () => {
    await store?.clear();
    await client?.quit();
  });

  it('length(), ids() and clear() over 10,000 sessions across 3 masters are exact and raise no CROSSSLOT', async () => {
    const ids: string[] = [];
    for (let batch = 0; batch < 20; batch++) {
      ids.push(...(await Promise.all(Array.from({ length: 500 }, (_, i) => store.create({ n: batch * 500 + i }, i % 10 === 0 ? { userId: `user-${i % 50}` } : {})))));
    }
    await Promise.all(ids.slice(0, 50).map((id) => store.destroy(id)));
    const masters = new Map<string, number>();
    for (const id of ids) masters.set(masterOf(client, store.keys.session(id)), (masters.get(masterOf(client, store.keys.session(id))) ?? 0) + 1);
    assert.equal(masters.size, 3, 'sessions on every master');
    for (const n of masters.values()) assert.ok(n > 2500, `balanced-ish: ${[...masters.values()].join('/')}`);

    assert.equal(await store.length(), 9_950);
    const listed = await store.ids();
    assert.equal(listed.length, 9_950);
    assert.deepEqual(new Set(listed), new Set(ids.slice(50)));
    const slots = new Set(listed.map((id) => slotOf(store.keys.session(id))));
    assert.ok(slots.size > 4000, `the sessions span ${slots.size} slots`);

    const keysBefore = (await keysUnder(client, prefix)).length;
    assert.equal(keysBefore, 9_950 + 50 + 5, "sessions, tombstones and the 5 user indexes");
    assert.equal(await store.clear(), keysBefore);
    assert.equal(await store.length(), 0);
    assert.deepEqual(await keysUnder(client, prefix), []);
    assert.deepEqual(errors, []);
  });

  it('for contrast: connect-redis 7 (the last line that takes ioredis) on an ioredis Cluster under-counts length() and clear() fails with CROSSSLOT', async () => {
    const cluster = await sharedCluster();
    const io = new Cluster(cluster.getRootNodes());
    const peerPrefix = uniquePrefix('connect-redis-7');
    const peer = new ConnectRedis7({ client: io, prefix: peerPrefix });
    const call = <T>(f: (cb: (err: unknown, v?: T) => void) => void) =>
      new Promise<T>((resolve, reject) => f((err, v) => (err ? reject(err as Error) : resolve(v as T))));
    try {
      for (let i = 0; i < 60; i++) await call((cb) => peer.set(`s${i}`, { cookie: { originalMaxAge: null } } as never, cb));
      // Its SCAN runs on whichever single node ioredis picks.
      assert.ok((await call<number>((cb) => peer.length(cb))) < 60);
      await assert.rejects(call((cb) => peer.clear(cb)), /CROSSSLOT/);
    } finally {
      for (let i = 0; i < 60; i++) await io.del(`${peerPrefix}s${i}`);
      io.disconnect();
    }
  });
});
