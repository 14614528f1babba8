/**
 * Clusters for tests. Ordinary integration tests share ONE 3×1 cluster for
 * the whole run (started on first use, stopped by the root afterAll hook).
 * Tests that break a cluster (kill, pause, remove…) start a private one and
 * stop it in their own `after()`.
 */
import { Redis } from 'ioredis';
import { ClusterClient } from '../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../testcontainers/index.js';

let shared: Promise<StartedRedisCluster> | undefined;

/** The run-wide shared 3 masters × 1 replica cluster. Do not inject faults into it. */
export function sharedCluster(): Promise<StartedRedisCluster> {
  shared ??= new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).start();
  return shared;
}

/** Stops the shared cluster if one was started (root afterAll). */
export async function stopSharedCluster(): Promise<void> {
  const s = shared;
  shared = undefined;
  if (s === undefined) return;
  const cluster = await s.catch(() => undefined);
  await cluster?.stop();
}

/** A raw standalone connection to one node (no redirect handling: tests see -ASK/-MOVED as errors). */
export function rawConnection(port: number, cluster?: StartedRedisCluster): Redis {
  const auth = cluster?.auth;
  const client = new Redis({
    host: '127.0.0.1',
    port,
    protocol: 2,
    username: auth?.username,
    password: auth?.password,
    lazyConnect: true,
    retryStrategy: null,
    maxRetriesPerRequest: 0,
    disableClientInfo: true,
  });
  client.on('error', () => {});
  return client;
}

/**
 * Registers an `after()` hook that disconnects every raw connection opened
 * through the returned function, so a suite need not track them itself.
 */
export function trackedRawConnections(): (port: number, cluster?: StartedRedisCluster) => Redis {
  const conns: Redis[] = [];
  after(() => {
    for (const c of conns.splice(0)) c.disconnect();
  });
  return (port, cluster) => {
    const c = rawConnection(port, cluster);
    conns.push(c);
    return c;
  };
}

/**
 * Registers suite hooks for one ClusterClient on the shared cluster: connected
 * before the suite's first test, quit after its last. Returns its getter.
 */
export function sharedClusterClient(): () => ClusterClient {
  let client: ClusterClient | undefined;
  before(async () => {
    const cluster = await sharedCluster();
    client = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await client.connect();
  });
  after(async () => {
    await client?.quit();
  });
  return () => {
    if (client === undefined) throw new Error('sharedClusterClient(): used outside the suite that registered it');
    return client;
  };
}
