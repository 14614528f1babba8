import type { ReadCandidate, ReadFrom } from '../options.js';
import type { NodeDescriptor, Shard } from '../topology/snapshot.js';

/** How the router sees a node's health and latency right now. */
export interface NodeLiveness {
  available(address: string): boolean;
  latencyMs(address: string): number | undefined;
}

let rr = 0;

/**
 * Picks the node of `shard` that serves a read-only command under the
 * `readFrom` policy. Returns undefined only for `replica` when no replica is
 * usable (the caller waits for one). Writes never come here.
 */
export function pickReadNode(shard: Shard, policy: ReadFrom, live: NodeLiveness, slot: number): NodeDescriptor | undefined {
  if (policy === 'master') return shard.master;
  // 'loading' is not excluded: CLUSTER SHARDS reports a replica as loading
  // whenever its known replication offset is 0, which is also true of a
  // healthy replica of a master that has not been written to yet. A replica
  // that really is loading answers LOADING, and the read moves to the master.
  const usable = (n: NodeDescriptor) => n.health !== 'failed' && live.available(n.address);
  if (policy === 'replicaPreferred' || policy === 'replica') {
    const replicas = shard.replicas.filter(usable);
    if (replicas.length > 0) return replicas[rr++ % replicas.length];
    return policy === 'replica' ? undefined : shard.master;
  }
  const all = [shard.master, ...shard.replicas].filter(usable);
  if (all.length === 0) return shard.master;
  if (policy === 'nearest') {
    // Unmeasured nodes count as 0 ms so each gets tried and measured once.
    let best = all[0]!;
    let bestMs = live.latencyMs(best.address) ?? 0;
    for (let i = 1; i < all.length; i++) {
      const ms = live.latencyMs(all[i]!.address) ?? 0;
      if (ms < bestMs) {
        best = all[i]!;
        bestMs = ms;
      }
    }
    return best;
  }
  const candidates: ReadCandidate[] = all.map((n) => ({
    address: n.address,
    role: n.role,
    latencyMs: live.latencyMs(n.address),
    healthy: true,
  }));
  const chosen = policy(candidates, slot);
  return chosen === undefined ? shard.master : all.find((n) => n.address === chosen.address) ?? shard.master;
}
