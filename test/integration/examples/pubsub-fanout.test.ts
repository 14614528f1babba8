/**
 * examples/pubsub-fanout on the shared cluster: three subscribers (one client
 * each) receive every update; when their connections to the channel's node
 * are killed mid-stream (CLIENT KILL of slotwise's subscriber connections,
 * nothing else), each reports a gap and fills it from the log — every
 * subscriber ends with every update applied exactly once and the latest price.
 */
import assert from 'node:assert/strict';
import { ClusterClient, slotOf } from '../../../lib/index.js';
import { PriceSubscriber, priceTopic, publishPrice } from '../../../examples/pubsub-fanout/prices.js';
import { rawConnection, sharedCluster } from '../../helpers/cluster.js';
import { waitFor } from '../../helpers/wait.js';

describe('examples/pubsub-fanout (integration)', function () {
  this.timeout(60_000);
  const clients: ClusterClient[] = [];
  after(async () => {
    await Promise.all(clients.map((c) => c.quit()));
  });

  it('three subscribers get every update once and the latest prices, across a killed subscriber connection', async () => {
    const cluster = await sharedCluster();
    for (let i = 0; i < 4; i++) {
      const c = new ClusterClient({ rootNodes: cluster.getRootNodes() });
      await c.connect();
      clients.push(c);
    }
    const [publisher, ...others] = clients as [ClusterClient, ...ClusterClient[]];
    const topic = priceTopic(publisher);
    // Start after the log's current end, so earlier runs' updates are not replayed.
    const last = (await publisher.xrevrange('prices:{log}', '+', '-', 'COUNT', 1)) as [string, string[]][];
    const start = last[0]?.[0] ?? '0-0';
    const subscribers = others.map((c) => new PriceSubscriber(c));
    for (const s of subscribers) await s.start(start);

    const published: string[] = [];
    for (let i = 0; i < 50; i++) published.push((await publishPrice(publisher, topic, `sku-${i % 5}`, i)).id);
    // Kill slotwise's subscriber connections on the node owning the channel, then keep publishing.
    const owner = publisher.topology!.shardOf(slotOf(topic.channel))!.master;
    const admin = rawConnection(owner.port, cluster);
    await admin.connect();
    const list = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
    const ids = [...list.matchAll(/id=(\d+) .*name=slotwise:subscriber/g)].map((m) => m[1]!);
    assert.ok(ids.length >= 3, `found the subscriber connections: ${ids.length}`);
    for (const id of ids) await admin.call('CLIENT', 'KILL', 'ID', id);
    await admin.quit();
    for (let i = 50; i < 100; i++) published.push((await publishPrice(publisher, topic, `sku-${i % 5}`, i)).id);

    for (const s of subscribers) {
      await waitFor(() => s.applied.size === published.length, { what: `all ${published.length} updates applied (have ${s.applied.size})`, timeoutMs: 20_000 });
      assert.deepEqual([...s.applied].sort(), [...published].sort(), 'every update, once');
      assert.ok(s.gaps.length >= 1, 'the killed connection was reported as a gap');
      assert.deepEqual([...s.prices].map(([sku, p]) => [sku, p.price]).sort(), [['sku-0', 95], ['sku-1', 96], ['sku-2', 97], ['sku-3', 98], ['sku-4', 99]]);
    }
    for (const s of subscribers) await s.stop();
  });
});
