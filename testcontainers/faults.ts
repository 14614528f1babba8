/**
 * Fault injection: kill, pause/resume, restart and manual failover. Each helper
 * returns once the cluster has converged again (unless told not to wait), so
 * tests never sleep; reports carry timestamps for chaos assertions.
 */
import { ClusterEngineError, InvalidArgumentError } from '../lib/errors.js';
import { retryUntil } from './admin.js';
import { OPEN_SLOT_PROBLEM } from './cluster-state.js';
import type { EngineContext, ManagedNode } from './context.js';
import { PortInUseError } from './node-process.js';
import type { ConvergenceOptions, FailoverMode, FailoverReport, KillReport, MoveReport, PauseReport, RecoverReport } from './types.js';

/** How long a manual failover's result must hold before it counts (a few gossip rounds). */
const STABLE_MS = 300;

function wants(options: ConvergenceOptions | undefined): boolean {
  return options?.waitForConvergence ?? true;
}

/**
 * SIGKILLs the node. Waits (by default) until: a replica of a killed master
 * reports itself master and the cluster is healthy; or, for a master with slots
 * but no replica, until every live node flags it failed (health cannot return);
 * or, for a replica / empty master, until it is flagged failed and healthy.
 */
export async function killNode(ctx: EngineContext, port: number, options?: ConvergenceOptions): Promise<KillReport> {
  const node = ctx.node(port, 'killNode');
  if (node.proc.state === 'killed') throw new InvalidArgumentError('port', `killNode(${port}): node is already killed`);
  const view = await ctx.anyView(port);
  const entry = view.find((e) => e.id === node.id);
  const wasMaster = (entry?.role ?? node.role) === 'master';
  const ownsSlots = (entry?.slots.length ?? 0) > 0;
  const replicas = ctx.live().filter((n) => view.find((e) => e.id === n.id)?.masterId === node.id);
  ctx.admin.drop(port);
  await node.proc.kill();
  const killedAt = Date.now();
  const base = { port, id: node.id, wasMaster, killedAt, slotsUncovered: wasMaster && ownsSlots && replicas.length === 0 };
  if (!wants(options)) return base;
  const timeoutMs = options?.timeoutMs ?? ctx.defaultTimeoutMs;
  if (wasMaster && ownsSlots && replicas.length > 0) {
    const won = await ctx.waitForMaster(
      replicas.map((n) => n.proc.port),
      timeoutMs,
    );
    const promotedNode = ctx.node(won.port, 'killNode');
    promotedNode.role = 'master';
    await ctx.waitForHealthy(timeoutMs);
    return { ...base, promoted: { port: won.port, id: promotedNode.id, at: won.at }, convergedAt: Date.now() };
  }
  await ctx.waitUntilFlaggedFailed(node.id, timeoutMs);
  if (!base.slotsUncovered) await ctx.waitForHealthy(timeoutMs);
  return { ...base, convergedAt: Date.now() };
}

/** SIGSTOPs the node and returns at once: the point is a frozen node with open sockets. */
export async function pauseNode(ctx: EngineContext, port: number): Promise<PauseReport> {
  const node = ctx.node(port, 'pauseNode');
  if (node.proc.state !== 'up') throw new InvalidArgumentError('port', `pauseNode(${port}): node is ${node.proc.state}, not up`);
  ctx.admin.drop(port); // a command sent now would only time out
  await node.proc.pause();
  return { port, pausedAt: Date.now() };
}

/** SIGCONTs the node; waits until the cluster is healthy (a replaced master has rejoined as replica). */
export async function resumeNode(ctx: EngineContext, port: number, options?: ConvergenceOptions): Promise<RecoverReport> {
  const node = ctx.node(port, 'resumeNode');
  if (node.proc.state !== 'paused') throw new InvalidArgumentError('port', `resumeNode(${port}): node is ${node.proc.state}, not paused`);
  await node.proc.resume();
  const at = Date.now();
  return settle(ctx, node, at, options);
}

/**
 * Crash-restart: SIGKILLs the node if it runs, starts redis-server again on the
 * same port with the same dir (so the same node id from nodes.conf, and its
 * data when append-only is on), then waits for health. A master that was
 * failed over meanwhile comes back as a replica of its successor.
 */
export async function restartNode(ctx: EngineContext, port: number, options?: ConvergenceOptions): Promise<RecoverReport> {
  const node = ctx.node(port, 'restartNode');
  ctx.admin.drop(port);
  await node.proc.kill();
  await node.proc.start();
  const at = Date.now();
  const id = String(await ctx.admin.call(port, 'CLUSTER', 'MYID'));
  if (id !== node.id) {
    throw new ClusterEngineError(`node ${port} came back with id ${id}, expected ${node.id} (nodes.conf lost?)`);
  }
  return settle(ctx, node, at, options);
}

/** New loopback aliases / container IPs tried when the first one's port is taken. */
const MOVE_ATTEMPTS = 3;

/**
 * The Kubernetes pod restart: SIGKILLs the node, then starts it on an IP it
 * never had (the next loopback alias for processes and host-network
 * containers, a new container with a new IP on a bridge network) with the
 * same data dir, so the same node id. Waits until every live node lists it
 * under the new IP (peers learn it from its first PING, as Redis does for a
 * moved pod) and the cluster is healthy.
 */
export async function restartNodeWithNewIp(ctx: EngineContext, port: number, options?: ConvergenceOptions): Promise<MoveReport> {
  const node = ctx.node(port, 'restartNodeWithNewIp');
  if (node.proc.state === 'removed') throw new InvalidArgumentError('port', `restartNodeWithNewIp(${port}): node was removed`);
  const previousIp = node.proc.announcedIp;
  ctx.admin.drop(port);
  await node.proc.kill();
  const killedAt = Date.now();
  for (let attempt = 1; ; attempt++) {
    await node.proc.moveToNewAddress();
    try {
      await node.proc.start();
      break;
    } catch (err) {
      if (!(err instanceof PortInUseError) || attempt >= MOVE_ATTEMPTS) throw err;
    }
  }
  ctx.admin.drop(port);
  const at = Date.now();
  const id = String(await ctx.admin.call(port, 'CLUSTER', 'MYID'));
  if (id !== node.id) throw new ClusterEngineError(`node ${port} came back with id ${id}, expected ${node.id} (nodes.conf lost?)`);
  const ip = node.proc.announcedIp;
  const base = { port, id, previousIp, ip, killedAt, at };
  if (!wants(options)) return { ...base, role: node.role };
  const timeoutMs = options?.timeoutMs ?? ctx.defaultTimeoutMs;
  await retryUntil(
    async () => {
      for (const n of ctx.live()) {
        const e = (await ctx.view(n.proc.port)).find((v) => v.id === id);
        if (e !== undefined && e.host !== ip) throw new Error(`node ${n.proc.port} still lists ${id.slice(0, 8)} at ${e.host}`);
      }
      return true;
    },
    { timeoutMs, intervalMs: 50, what: `every node to list ${port} at its new IP ${ip}` },
  );
  const settled = await settle(ctx, node, at, options);
  return { ...base, role: settled.role, ...(settled.convergedAt !== undefined ? { convergedAt: settled.convergedAt } : {}) };
}

async function settle(ctx: EngineContext, node: ManagedNode, at: number, options?: ConvergenceOptions): Promise<RecoverReport> {
  const base = { port: node.proc.port, id: node.id, at };
  if (!wants(options)) return { ...base, role: node.role };
  await ctx.waitForHealthy(options?.timeoutMs ?? ctx.defaultTimeoutMs);
  return { ...base, role: node.role, convergedAt: Date.now() };
}

/**
 * `CLUSTER FAILOVER [FORCE|TAKEOVER]` on a replica; waits until it reports
 * itself master and the whole cluster agrees. `default` needs its master
 * reachable; use `force` (or `takeover`) when the master is down.
 */
export async function failover(
  ctx: EngineContext,
  replicaPort: number,
  options: { mode?: FailoverMode; timeoutMs?: number } = {},
): Promise<FailoverReport> {
  const mode = options.mode ?? 'default';
  if (!['default', 'force', 'takeover'].includes(mode)) {
    throw new InvalidArgumentError('mode', `failover mode ${JSON.stringify(mode)} is not one of 'default', 'force', 'takeover'`);
  }
  const node = ctx.liveNode(replicaPort, 'failover');
  const me = (await ctx.view(replicaPort)).find((e) => e.myself);
  if (me?.role !== 'replica' || me.masterId === null) {
    throw new InvalidArgumentError('replicaPort', `failover(${replicaPort}): node is a master; pass the port of a replica`);
  }
  const previousMasterPort = ctx.byId(me.masterId)?.proc.port ?? null;
  const timeoutMs = options.timeoutMs ?? ctx.defaultTimeoutMs;
  const args = mode === 'default' ? [] : [mode.toUpperCase()];
  // An election can be lost or undone: masters refuse to vote twice for replicas of the same
  // master within 2 × node timeout, and a replica that "won" on stale votes is demoted again
  // when a higher epoch shows up. So: re-request once a manual failover has surely expired
  // (Redis aborts it after 5 s), and only accept a promotion the whole cluster agrees on.
  const retryAfterMs = Math.max(5_000, 2 * ctx.settings.nodeTimeoutMs) + 500;
  const requestedAt = Date.now();
  let lastRequest = 0;
  let promotedAt: number | undefined;
  let healthySince: number | undefined;
  await retryUntil(
    async () => {
      const role = ((await ctx.admin.call(replicaPort, 'ROLE')) as unknown[])[0];
      if (role !== 'master') {
        promotedAt = undefined;
        if (Date.now() - lastRequest >= retryAfterMs) {
          lastRequest = Date.now();
          await ctx.admin.call(replicaPort, 'CLUSTER', 'FAILOVER', ...args);
        }
        throw new Error(`node ${replicaPort} is still a replica`);
      }
      promotedAt ??= Date.now();
      // A slot left open (a reshard running, or interrupted by this very failover) is not this failover's business.
      const problems = (await ctx.healthProblems()).filter((p) => !p.endsWith(OPEN_SLOT_PROBLEM));
      if (problems.length > 0) {
        healthySince = undefined;
        throw new Error(problems.slice(0, 4).join('; '));
      }
      // A promotion won on stale votes is undone within a gossip round or two: require it to hold.
      healthySince ??= Date.now();
      if (Date.now() - healthySince < STABLE_MS) throw new Error('promotion not yet stable');
      return true;
    },
    { timeoutMs, intervalMs: 20, what: `replica ${replicaPort} to become master (CLUSTER FAILOVER ${mode}) and every node to agree` },
  );
  node.role = 'master';
  return { port: replicaPort, mode, previousMasterPort, requestedAt, promotedAt: promotedAt ?? Date.now(), convergedAt: Date.now() };
}
