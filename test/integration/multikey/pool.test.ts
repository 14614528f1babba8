/**
 * Dedicated pooled connections (lib/node/pool.ts): a blocking command does
 * not hold up other commands to its node, and an exhausted pool fails with
 * PoolError instead of waiting forever.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ClusterClient, PoolError, slotOf } from '../../../lib/index.js';
import { sharedCluster, rawConnection } from '../../helpers/cluster.js';
import { percentile } from '../../helpers/load.js';
import { waitFor } from '../../helpers/wait.js';

describe('dedicated connection pools (integration)', function () {
  this.timeout(60_000);
  const clients: ClusterClient[] = [];
  const run = randomUUID().slice(0, 8);

  async function newClient(extra: Partial<ConstructorParameters<typeof ClusterClient>[0]> = {}): Promise<ClusterClient> {
    const cluster = await sharedCluster();
    const c = new ClusterClient({ rootNodes: cluster.getRootNodes(), ...extra });
    clients.push(c);
    await c.connect();
    return c;
  }
  after(async () => {
    await Promise.all(clients.map((c) => c.quit()));
  });

  /** Keys on the same master as `key`. */
  function neighbours(client: ClusterClient, key: string, n: number): string[] {
    const owner = client.topology!.shardOf(slotOf(key))!.master.address;
    const out: string[] = [];
    for (let i = 0; out.length < n; i++) {
      const k = `pool:${run}:n${i}`;
      if (client.topology!.shardOf(slotOf(k))!.master.address === owner) out.push(k);
    }
    return out;
  }

  async function getLatencies(client: ClusterClient, keys: readonly string[], samples: number): Promise<number[]> {
    const ms: number[] = [];
    for (let i = 0; i < samples; i++) {
      const t = performance.now();
      await client.get(keys[i % keys.length]!);
      ms.push(performance.now() - t);
    }
    return ms;
  }

  it('a BLPOP in flight does not delay GETs to the same node (no head-of-line blocking), and returns the pushed value', async () => {
    const client = await newClient();
    const list = `pool:${run}:list`;
    const keys = neighbours(client, list, 20);
    await Promise.all(keys.map((k) => client.set(k, 'v')));
    const node = client.nodes('master').find((n) => n.address === client.topology!.shardOf(slotOf(list))!.master.address)!;

    await getLatencies(client, keys, 200); // warm-up
    const baseline = percentile(await getLatencies(client, keys, 1000), 99);

    let popped: unknown = 'pending';
    const blpop = client.blpop(list, 5).then((v) => (popped = v));
    // Wait until the server really has the BLPOP blocked.
    const raw = rawConnection(node.port);
    await raw.connect();
    await waitFor(async () => String(await raw.call('CLIENT', 'LIST')).includes('cmd=blpop'), { what: 'BLPOP blocked on the server', timeoutMs: 4000 });
    const blocked = percentile(await getLatencies(client, keys, 1000), 99);
    assert.equal(popped, 'pending', 'the GETs were measured while BLPOP was still blocked');

    const bound = Math.max(2 * baseline, baseline + 5);
    assert.ok(blocked <= bound, `GET p99 while BLPOP blocks: ${blocked.toFixed(2)} ms, idle baseline ${baseline.toFixed(2)} ms (bound ${bound.toFixed(2)} ms)`);
    assert.equal(await client.rpush(list, 'hello'), 1);
    await blpop;
    assert.deepEqual(popped, [list, 'hello']);
    assert.equal(node.pool.stats.borrowed, 0, 'the dedicated connection went back to the pool');
    raw.disconnect();
  });

  it('fails with PoolError when every dedicated connection of a node stays borrowed', async () => {
    const client = await newClient({ pool: { max: 1, acquireTimeoutMs: 200 } });
    const list = `{pool:${run}}:q`;
    const first = client.blpop(list, 5);
    const node = client.nodes('master').find((n) => n.address === client.topology!.shardOf(slotOf(list))!.master.address)!;
    await waitFor(() => node.pool.stats.borrowed === 1, { what: 'the only connection borrowed' });
    const started = Date.now();
    await assert.rejects(client.blpop(`{pool:${run}}:other`, 1), (e: unknown) => e instanceof PoolError && /all 1 are borrowed/.test(e.message));
    await assert.rejects(client.withConnection(list, async () => 'never'), PoolError);
    await assert.rejects(client.multi().incr(`{pool:${run}}:n`).exec(), PoolError);
    assert.ok(Date.now() - started < 4000, 'each waited only acquireTimeoutMs');
    assert.ok(node.pool.stats.acquireTimeouts >= 3);
    assert.equal(await client.exists(`{pool:${run}}:n`), 0, 'the transaction never ran');
    await client.rpush(list, 'x');
    assert.deepEqual(await first, [list, 'x']);
  });
});
