/**
 * Growing and shrinking a running cluster: add an empty master, add a replica,
 * remove a node (after emptying it). Each returns once the cluster is healthy.
 */
import { ClusterEngineError, InvalidArgumentError } from '../lib/errors.js';
import { errorText, retryUntil } from './admin.js';
import type { EngineContext, ManagedNode } from './context.js';
import { reshard } from './reshard.js';
import type { AddedNode, RemoveReport } from './types.js';

async function join(ctx: EngineContext): Promise<ManagedNode> {
  const node = await ctx.spawnNode();
  try {
    await ctx.meet(node);
    await ctx.waitUntilKnown(ctx.live().map((n) => n.id));
    return node;
  } catch (err) {
    await node.proc.destroy();
    ctx.discard(node.proc.port);
    throw err;
  }
}

/** Starts a new node and joins it as a master without slots (reshard to give it some). */
export async function addMaster(ctx: EngineContext): Promise<AddedNode> {
  const node = await join(ctx);
  await ctx.waitForHealthy();
  return { port: node.proc.port, id: node.id };
}

/** Starts a new node and makes it a replica of the master on `masterPort`; returns once it is in sync. */
export async function addReplica(ctx: EngineContext, masterPort: number): Promise<AddedNode> {
  const master = ctx.liveNode(masterPort, 'addReplica');
  const entry = (await ctx.view(masterPort)).find((e) => e.myself);
  if (entry?.role !== 'master') throw new InvalidArgumentError('masterPort', `addReplica(${masterPort}): node is a replica; pass a master's port`);
  const node = await join(ctx);
  await ctx.replicate(node, master.id);
  await ctx.waitForHealthy();
  return { port: node.proc.port, id: node.id, masterPort };
}

/**
 * Removes a node for good. A master with slots is emptied first: its slots are
 * resharded evenly over the other masters. Its replicas are kept and
 * re-pointed to the master with the fewest replicas. Then every other
 * node is told to `CLUSTER FORGET` it, the process is ended and its dir deleted.
 */
export async function removeNode(ctx: EngineContext, port: number): Promise<RemoveReport> {
  const node = ctx.node(port, 'removeNode');
  let view = await ctx.anyView(port);
  const entry = view.find((e) => e.id === node.id);
  // Taken before resharding, in case a node runs with replica migration on and Redis moves them itself.
  const replicas = ctx.live().filter((n) => view.find((e) => e.id === n.id)?.masterId === node.id);
  const ownedSlots: number[] = [];
  for (const [a, b] of entry?.role === 'master' ? entry.slots : []) for (let s = a; s <= b; s++) ownedSlots.push(s);
  const otherMasters = () =>
    ctx.live().filter((n) => n !== node && view.find((e) => e.id === n.id)?.role === 'master');

  if (ownedSlots.length > 0) {
    if (node.proc.state !== 'up') {
      throw new ClusterEngineError(`removeNode(${port}): node is ${node.proc.state} and still owns ${ownedSlots.length} slots; restart it or fail it over first`);
    }
    const receivers = otherMasters();
    if (receivers.length === 0) throw new InvalidArgumentError('port', `removeNode(${port}): it is the only master; there is nowhere to move its slots`);
    for (const [i, receiver] of receivers.entries()) {
      const share = ownedSlots.filter((_, k) => k % receivers.length === i);
      if (share.length > 0) await reshard(ctx, { from: port, to: receiver.proc.port, slots: share });
    }
    view = await ctx.anyView(port);
  }

  const repointed: number[] = [];
  for (const replica of replicas) {
    const current = (await ctx.view(replica.proc.port)).find((e) => e.myself);
    if (current?.masterId === node.id) {
      const counts = otherMasters().map((m) => ({ m, n: view.filter((e) => e.masterId === m.id).length }));
      counts.sort((a, b) => a.n - b.n);
      const to = counts[0]?.m;
      if (to === undefined) throw new ClusterEngineError(`removeNode(${port}): no other master for its replica ${replica.proc.port}`);
      await ctx.replicate(replica, to.id);
    }
    repointed.push(replica.proc.port);
  }

  // End the process first so it cannot gossip itself back in, then make everyone forget it.
  ctx.admin.drop(port);
  await node.proc.kill();
  await retryUntil(
    async () => {
      const still: number[] = [];
      for (const n of ctx.live()) {
        if (n === node) continue;
        const knows = (await ctx.view(n.proc.port)).some((e) => e.id === node.id);
        if (!knows) continue;
        still.push(n.proc.port);
        await ctx.admin.call(n.proc.port, 'CLUSTER', 'FORGET', node.id).catch((err: unknown) => {
          if (!/Unknown node/i.test(errorText(err))) throw err;
        });
      }
      if (still.length > 0) throw new Error(`nodes ${still.join(', ')} still list ${node.id.slice(0, 8)}`);
      return true;
    },
    { timeoutMs: ctx.defaultTimeoutMs, intervalMs: 50, what: `every node to forget ${port}` },
  );
  await node.proc.destroy();
  ctx.discard(port);
  await ctx.waitForHealthy();
  return { port, id: node.id, movedSlots: ownedSlots.length, repointedReplicas: repointed };
}
