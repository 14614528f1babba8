/**
 * An integration test of your own service, the way you would write it:
 * mocha + a real Redis Cluster from slotwise/testcontainers, started once for
 * the file and stopped afterwards. Runs from the repository root with
 *
 *   npx mocha --import=tsx examples/integration-test/cart.test.ts
 *
 * (needs redis-server ≥ 7 on PATH, or Docker).
 */
import assert from 'node:assert/strict';
import { ClusterClient } from 'slotwise';
import { RedisClusterContainer, type StartedRedisCluster } from 'slotwise/testcontainers';
import { CartService } from './cart.js';

describe('CartService', function () {
  this.timeout(60_000);
  let cluster: StartedRedisCluster;
  let client: ClusterClient;
  let carts: CartService;

  before(async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).start();
    client = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await client.connect();
    carts = new CartService(client);
  });
  after(async () => {
    await client?.quit();
    await cluster?.stop();
  });

  it('adds items and checks out atomically', async () => {
    await carts.add('ada', 'book', 2);
    await carts.add('ada', 'pen');
    assert.deepEqual(await carts.items('ada'), { book: 2, pen: 1 });
    assert.deepEqual(await carts.checkout('ada'), { book: 2, pen: 1 });
    assert.deepEqual(await carts.items('ada'), {});
  });

  it('keeps working when the master holding a cart is killed', async () => {
    await carts.add('grace', 'lamp');
    // Find the master that owns the cart's slot and kill -9 it; its replica takes over.
    const slot = Number(await client.call('CLUSTER', 'KEYSLOT', '{cart:grace}:items'));
    const owner = (await cluster.getNodes()).find((n) => n.role === 'master' && n.slots.some(([start, end]) => start <= slot && slot <= end));
    assert.ok(owner, 'a master owns the slot');
    await cluster.killNode(owner.port);
    await carts.add('grace', 'lamp'); // routed to the promoted replica
    const items = await carts.items('grace');
    // Replication is asynchronous: the first add may or may not have reached the replica.
    assert.ok(items.lamp === 1 || items.lamp === 2, JSON.stringify(items));
  });
});
