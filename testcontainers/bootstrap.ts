/**
 * Building a cluster from fresh nodes with CLUSTER commands only (no
 * `redis-cli --cluster` output parsing): distinct config epochs, slots,
 * MEET, replication, then the full health wait.
 */
import { ClusterEngineError } from '../lib/errors.js';
import { splitSlots } from './cluster-state.js';
import type { EngineContext, ManagedNode } from './context.js';

/**
 * Starts `masters × (1 + replicasPerMaster)` nodes in parallel and joins them
 * into one healthy cluster. On failure everything started is destroyed.
 */
export async function bootstrapCluster(ctx: EngineContext): Promise<void> {
  const { masters: m, replicasPerMaster: r } = ctx.settings;
  const total = m * (1 + r);
  const started = await Promise.allSettled(Array.from({ length: total }, () => ctx.spawnNode()));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  const nodes = started.map((s) => (s as PromiseFulfilledResult<ManagedNode>).value);
  const masters = nodes.slice(0, m);
  const replicas = nodes.slice(m);
  const call = (n: ManagedNode, ...args: Array<string | number>) => ctx.admin.call(n.proc.port, 'CLUSTER', ...args);

  // Distinct epochs up front: otherwise equal epochs are resolved by gossip, one bump at a time.
  await Promise.all(nodes.map((n, i) => call(n, 'SET-CONFIG-EPOCH', i + 1)));
  const ranges = splitSlots(m);
  await Promise.all(masters.map((n, i) => call(n, 'ADDSLOTSRANGE', ...(ranges[i] as [number, number]))));
  // Every pair meets directly: waiting for gossip to spread one MEET takes ~1 s for 6 nodes.
  await Promise.all(nodes.flatMap((a, i) => nodes.slice(0, i).map((b) => call(a, 'MEET', b.proc.announcedIp, b.proc.port, b.proc.busPort))));
  await ctx.waitUntilKnown(nodes.map((n) => n.id));
  // Replica k follows master k mod m, so every master gets r replicas.
  await Promise.all(replicas.map((n, k) => ctx.replicate(n, (masters[k % m] as ManagedNode).id)));
  try {
    await ctx.waitForHealthy();
  } catch (err) {
    throw new ClusterEngineError(`cluster of ${total} nodes did not become healthy: ${(err as Error).message}`, { cause: err });
  }
}
