/**
 * examples/inventory on the shared cluster: concurrent reservations from
 * several clients never oversell, and a holder that lost its lease cannot
 * write stale stock (its fenced write is refused).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ClusterClient, FencingTokenRejectedError } from '../../../lib/index.js';
import { Inventory } from '../../../examples/inventory/inventory.js';
import { sharedCluster } from '../../helpers/cluster.js';
import { startExample, rootNodesEnv } from '../../helpers/examples.js';
import { waitFor } from '../../helpers/wait.js';

describe('examples/inventory (integration)', function () {
  this.timeout(60_000);
  const clients: ClusterClient[] = [];

  before(async () => {
    const cluster = await sharedCluster();
    for (let i = 0; i < 3; i++) {
      const c = new ClusterClient({ rootNodes: cluster.getRootNodes() });
      await c.connect();
      clients.push(c);
    }
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.quit()));
  });

  it('30 concurrent reservations from 3 clients for 12 items: exactly 12 succeed, stock ends at 0', async () => {
    const sku = `ex-${randomUUID().slice(0, 8)}`;
    const services = clients.map((c) => new Inventory(c));
    await services[0]!.restock(sku, 12);
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => services[i % 3]!.reserve(sku, 1)));
    assert.equal(results.filter(Boolean).length, 12);
    assert.equal(await services[1]!.stock(sku), 0);
  });

  it('a holder whose lease ran out cannot write over the next holder (fencing)', async () => {
    const sku = `ex-${randomUUID().slice(0, 8)}`;
    const inventory = new Inventory(clients[0]!);
    await inventory.restock(sku, 5);
    // Acquired without renewal (plain acquire()): after leaseMs (2 s) it is gone, as for a stalled process.
    const stale = await new Inventory(clients[1]!).lock(sku).acquire();
    await waitFor(() => !stale.held, { what: 'the stale holder to lose its lease', timeoutMs: 10_000 });
    assert.equal(await inventory.reserve(sku, 2), true, 'the next holder gets the lock and writes');
    await assert.rejects(stale.fencedSet(Inventory.stockKey(sku), '100'), FencingTokenRejectedError);
    assert.equal(await inventory.stock(sku), 3, 'the stale write changed nothing');
  });

  it('runs as a program', async () => {
    const p = startExample('examples/inventory/inventory.ts', { SLOTWISE_ROOT_NODES: rootNodesEnv(await sharedCluster()) });
    assert.equal(await p.exited, 0, p.stderr());
    assert.deepEqual(p.lines.map((l) => l.text), ['10 reserved, stock left: 0']);
  });
});

