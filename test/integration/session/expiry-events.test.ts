/**
 * `expired` events from keyspace notifications on every master. A private
 * 3-master cluster: these tests change `notify-keyspace-events`, which the
 * shared cluster must not see.
 */
import assert from 'node:assert/strict';
import { ClusterClient, KeyspaceNotificationsDisabledError, SessionStore } from '../../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../../testcontainers/index.js';
import { masterOf, uniquePrefix } from '../../helpers/sessions.js';
import { waitFor } from '../../helpers/wait.js';

describe('SessionStore expired events (private 3-master cluster)', function () {
  this.timeout(120_000);
  let cluster: StartedRedisCluster;
  let client: ClusterClient;

  before(async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(0).start();
    client = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await client.connect();
  });
  after(async () => {
    await client?.quit();
    await cluster?.stop();
  });

  it('refuses to start when a master has notifications off, naming the node and the missing flags', async () => {
    const store = new SessionStore(client, { prefix: uniquePrefix('expiry-off') });
    await assert.rejects(store.watchExpiry(), (e: unknown) => e instanceof KeyspaceNotificationsDisabledError && e.missing === 'Kx' && e.current === '' && /CONFIG SET notify-keyspace-events/.test(e.message));
    // Two of three masters configured is still not enough: the third is named.
    const [a, b, c] = client.nodes('master');
    await a!.call('config', 'set', 'notify-keyspace-events', 'Kx');
    await b!.call('config', 'set', 'notify-keyspace-events', 'KEA');
    await assert.rejects(store.watchExpiry(), (e: unknown) => e instanceof KeyspaceNotificationsDisabledError && e.address === c!.address);
    await store.close();
  });

  it('emits expired for sessions on every master — not for destroyed ones, tombstones or other keys', async () => {
    await client.nodes('master')[2]!.call('config', 'set', 'notify-keyspace-events', 'Kx');
    const store = new SessionStore(client, { prefix: uniquePrefix('expiry'), tombstoneTtlMs: 200 });
    const expired = new Set<string>();
    store.on('expired', ({ id }) => expired.add(id));
    await store.watchExpiry();
    try {
      const ids = await Promise.all(Array.from({ length: 30 }, () => store.create({ a: 1 }, { ttlMs: 300 })));
      assert.equal(new Set(ids.map((id) => masterOf(client, store.keys.session(id)))).size, 3);
      const kept = await store.create({ a: 1 }, { ttlMs: 60_000 });
      const destroyed = ids.slice(0, 5);
      await Promise.all(destroyed.map((id) => store.destroy(id)));
      await client.set(`${store.options.prefix}not-a-session`, '1', 'PX', 200);

      const expiring = ids.slice(5);
      await waitFor(() => expiring.every((id) => expired.has(id)), { timeoutMs: 30_000, what: 'an expired event for each of the 25 sessions' });
      // The tombstones (200 ms) and the other key have expired by now as well: none of them is reported.
      await waitFor(async () => (await Promise.all(destroyed.map((id) => client.exists(store.keys.tombstone(id))))).every((n) => n === 0), { what: 'the tombstones to expire' });
      assert.deepEqual([...expired].sort(), expiring.sort());
      assert.ok(!expired.has(kept));
    } finally {
      await store.close();
    }
  });
});
