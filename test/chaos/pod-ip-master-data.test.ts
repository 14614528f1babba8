/**
 * The soak's 72 stale reads (seed 26, docs/benchmarks/soak.md), reproduced:
 * a pod-IP move of a master THAT HAS A REPLICA, under a 32-way acknowledged
 * write + read-back load, on a 3×1 cluster with a 2 s node timeout — what the
 * soak's faults.ts does (restartNodeWithNewIp: SIGKILL, start at once on the
 * next loopback alias with the same dir).
 *
 * The master is back within a few hundred ms, long before the node timeout,
 * so no failover happens: it simply resumes as master of its slots. Without
 * persistence (the engine's default: `save ""`, `appendonly no`) it comes back
 * EMPTY — and its replica, reconnecting, full-resyncs from it and drops its
 * copy too. Redis documents this ("Safety of replication when master has
 * persistence turned off"); it is not a client fault: no client can read a
 * key no node holds any more. A Kubernetes pod with a persistent volume keeps
 * its append-only file: with `withAppendOnly()` (appendfsync everysec; an
 * acknowledged write is in the AOF's page cache before the reply, which a
 * SIGKILL does not lose) the same move costs callers nothing.
 */
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { ClusterClient, slotOf } from '../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../testcontainers/index.js';
import { Load, describeErrors, lostWrites } from '../helpers/load.js';
import { waitFor } from '../helpers/wait.js';

/** Keys written once before the fault and never again: the load's keys are rewritten too often to show a loss. */
const STILL_KEYS = 600;

interface Outcome {
  readonly ops: number;
  readonly errors: readonly Error[];
  readonly staleReads: readonly string[];
  readonly lostLoadWrites: readonly string[];
  /** Still keys in the victim's slots, and how many of them no node returns any more. */
  readonly stillOnVictim: number;
  readonly stillLost: number;
  /** Of the still keys in the victim's slots, how many its replica holds once back in sync with it. */
  readonly stillOnReplica: number;
  /** Keys the victim held before the kill, and right after it accepted connections again. */
  readonly dbsizeBefore: number;
  readonly dbsizeAfterRestart: number;
  readonly backMs: number;
}

async function onNode<T>(host: string, port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ host, port, lazyConnect: true, retryStrategy: null, maxRetriesPerRequest: 0, disableClientInfo: true });
  r.on('error', () => {});
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

const dbsize = (host: string, port: number) => onNode(host, port, async (r) => Number(await r.dbsize()));

/** How many of `keys` the replica holds with the expected value, once its link to the master is up and caught up. */
async function heldByReplica(host: string, port: number, expected: ReadonlyMap<string, string>, keys: readonly string[]): Promise<number> {
  return onNode(host, port, async (r) => {
    await waitFor(async () => /master_link_status:up/.test(await r.info('replication')), { timeoutMs: 20_000, what: `replica ${port} in sync` });
    await r.call('READONLY');
    const got = await Promise.all(keys.map((k) => r.get(k)));
    return got.filter((v, i) => v === expected.get(keys[i]!)).length;
  });
}

async function moveMasterUnderLoad(cluster: StartedRedisCluster, client: ClusterClient): Promise<Outcome> {
  const still = new Map<string, string>();
  for (let i = 0; i < STILL_KEYS; i++) still.set(`still:${i}`, `v${i}`);
  await Promise.all([...still].map(([k, v]) => client.set(k, v)));
  const load = new Load(client, { workers: 32, keysPerWorker: 50, prefix: 'podmaster', valueBytes: 100 }).start();
  try {
    await waitFor(() => load.ops > 3000, { timeoutMs: 20_000, what: 'warm-up load' });
    const nodes = await cluster.getNodes();
    const victim = nodes.find((n) => n.role === 'master' && nodes.some((r) => r.masterId === n.id))!;
    const replica = nodes.find((r) => r.masterId === victim.id)!;
    const victimSlots = new Set(victim.slots.flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i)));
    const dbsizeBefore = await dbsize(victim.announcedIp, victim.port);
    // As faults.ts does, minus the wait: look at the node the moment it accepts connections again.
    const move = await cluster.restartNodeWithNewIp(victim.port, { waitForConvergence: false });
    const dbsizeAfterRestart = await dbsize(move.ip, victim.port);
    await cluster.waitForHealthy({ timeoutMs: 30_000 });
    const after = load.ops;
    await waitFor(() => load.ops > after + 3000, { timeoutMs: 20_000, what: 'load after the move' });
    const result = await load.stop();
    const stillKeys = [...still.keys()].filter((k) => victimSlots.has(slotOf(k)));
    const got = await Promise.all(stillKeys.map((k) => client.get(k)));
    const stillOnReplica = await heldByReplica(replica.announcedIp, replica.port, still, stillKeys);
    return {
      ops: result.ops,
      errors: result.errors,
      staleReads: result.staleReads,
      lostLoadWrites: await lostWrites(client, result.acked),
      stillOnVictim: stillKeys.length,
      stillLost: got.filter((v, i) => v !== still.get(stillKeys[i]!)).length,
      stillOnReplica,
      dbsizeBefore,
      dbsizeAfterRestart,
      backMs: move.at - move.killedAt,
    };
  } finally {
    await load.stop();
  }
}

describe('chaos: pod-IP move of a master with a replica (the soak\'s stale reads)', function () {
  this.timeout(120_000);
  let cluster: StartedRedisCluster | undefined;
  let client: ClusterClient | undefined;
  afterEach(async () => {
    await client?.quit();
    client = undefined;
    await cluster?.stop();
    cluster = undefined;
  });

  async function start(appendOnly: boolean): Promise<[StartedRedisCluster, ClusterClient]> {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).withNodeTimeoutMs(2000).withAppendOnly(appendOnly).start();
    client = new ClusterClient({ ...cluster.getClientOptions(), commandTimeoutMs: 10_000 });
    await client.connect();
    return [cluster, client];
  }

  it('without persistence the master comes back empty and its replica resyncs from it: Redis loses the shard\'s data', async () => {
    const [c, cl] = await start(false);
    const o = await moveMasterUnderLoad(c, cl);
    console.log(`      no AOF: back after ${o.backMs} ms; victim held ${o.dbsizeBefore} keys, ${o.dbsizeAfterRestart} on restart; ` +
      `${o.stillLost}/${o.stillOnVictim} still keys gone (replica holds ${o.stillOnReplica}); ${o.staleReads.length} stale reads; ${o.errors.length} errors in ${o.ops} ops`);
    assert.ok(o.dbsizeBefore > 0);
    assert.equal(o.dbsizeAfterRestart, 0, 'redis-server without save/appendonly restarts with no data');
    // Data is gone from the cluster, replica included: a client cannot read what no node holds.
    assert.ok(o.stillOnVictim > 0);
    assert.equal(o.stillLost, o.stillOnVictim);
    assert.equal(o.stillOnReplica, 0, 'the replica resynced from the empty master');
  });

  it('with an append-only file (a pod with a volume): 0 errors, 0 stale reads, 0 acknowledged writes lost', async () => {
    const [c, cl] = await start(true);
    const o = await moveMasterUnderLoad(c, cl);
    console.log(`      AOF everysec: back after ${o.backMs} ms; victim held ${o.dbsizeBefore} keys, ${o.dbsizeAfterRestart} on restart; ` +
      `${o.stillLost}/${o.stillOnVictim} still keys gone (replica holds ${o.stillOnReplica}); ${o.staleReads.length} stale reads; ${o.errors.length} errors in ${o.ops} ops`);
    assert.equal(o.errors.length, 0, describeErrors(o.errors));
    assert.deepEqual(o.staleReads, []);
    assert.deepEqual(o.lostLoadWrites, []);
    assert.equal(o.stillLost, 0);
    assert.equal(o.stillOnReplica, o.stillOnVictim);
    assert.ok(o.dbsizeAfterRestart >= o.dbsizeBefore, `restarted with ${o.dbsizeAfterRestart} keys, had ${o.dbsizeBefore}`);
  });
});
