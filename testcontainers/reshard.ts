/**
 * Live slot migration, done the way Redis Cluster documents it, so that
 * clients see real `-ASK` and `-MOVED` replies while it runs:
 *
 *   1. target: CLUSTER SETSLOT s IMPORTING <source-id>
 *   2. source: CLUSTER SETSLOT s MIGRATING <target-id>
 *   3. source: CLUSTER GETKEYSINSLOT s n  →  MIGRATE … KEYS …   (until empty)
 *   4. CLUSTER SETSLOT s NODE <target-id> on the target, the source, then every other master
 *
 * Slots are handled in rounds: steps 1, 2 and 4 are pipelined for all slots of
 * a round (one nodes.conf fsync per round instead of per slot), step 3 runs per
 * slot so hooks can act between a slot's keys moving and its finalization.
 *
 * A failover (or kill) of the source or target master mid-migration does not
 * stop it: IMPORTING/MIGRATING are not replicated, so the promoted replica
 * knows nothing of the migration and the slot would stay stuck (the source
 * says `ASK old-target`, the old target — now a replica — says `MOVED source`).
 * When a step fails, the reshard waits for each shard to have one agreed
 * master again, re-points IMPORTING/MIGRATING to the current masters and
 * finishes every slot of the round one by one (see finishSlot).
 */
import { ClusterEngineError, InvalidArgumentError } from '../lib/errors.js';
import { errorText, retryUntil } from './admin.js';
import { SLOT_COUNT, type ClusterNodesEntry } from './cluster-state.js';
import type { EngineContext, ManagedNode } from './context.js';
import { fixOpenSlots, migrateSlotKeys, type NodeAccess, type SlotFix } from './slot-repair.js';
import type { ReshardOptions, ReshardReport } from './types.js';

/** Pause between attempts to finish a round (doubling): a killed master's shard needs seconds to elect. */
const RECOVERY_PAUSE_MS = 100;

/** One side of the migration: the shard (master + replicas at plan time) and its master now. */
interface Side {
  readonly label: 'source' | 'target';
  readonly ids: ReadonlySet<string>;
  master: ManagedNode;
}

/** Keys moved so far (kept across a round that failed half-way). */
interface Moved {
  keys: number;
}

interface Plan {
  readonly source: Side;
  readonly target: Side;
  readonly slots: number[];
}

function positiveInt(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(name, `${String(value)} is not a positive integer`);
  }
  return value;
}

function owns(entry: ClusterNodesEntry | undefined, slot: number): boolean {
  return entry?.slots.some(([a, b]) => slot >= a && slot <= b) ?? false;
}

async function plan(ctx: EngineContext, options: ReshardOptions): Promise<Plan> {
  if (options.from === options.to) throw new InvalidArgumentError('to', `reshard: from and to are both ${options.from}; pick two different masters`);
  const source = ctx.liveNode(options.from, 'reshard');
  const target = ctx.liveNode(options.to, 'reshard');
  const view = await ctx.view(source.proc.port);
  const entryOf = (n: ManagedNode) => view.find((e) => e.id === n.id);
  for (const [name, n] of [['from', source], ['to', target]] as const) {
    if (entryOf(n)?.role !== 'master') throw new InvalidArgumentError(name, `reshard: node ${n.proc.port} is not a master`);
  }
  const owned: number[] = [];
  for (const [a, b] of entryOf(source)?.slots ?? []) for (let s = a; s <= b; s++) owned.push(s);
  let slots: number[];
  if (typeof options.slots === 'number') {
    const count = options.slots;
    if (!Number.isInteger(count) || count < 1 || count > owned.length) {
      throw new InvalidArgumentError('slots', `reshard: ${String(count)} slots requested, but node ${source.proc.port} owns ${owned.length}; expected an integer 1–${owned.length}`);
    }
    slots = owned.slice(0, count);
  } else if (Array.isArray(options.slots) && options.slots.length > 0) {
    const mine = new Set(owned);
    slots = [...new Set(options.slots as number[])].sort((a, b) => a - b);
    const bad = slots.filter((s) => !Number.isInteger(s) || s < 0 || s >= SLOT_COUNT || !mine.has(s));
    if (bad.length > 0) {
      throw new InvalidArgumentError('slots', `reshard: slots ${bad.slice(0, 10).join(', ')} are not owned by node ${source.proc.port} (or not slots at all)`);
    }
  } else {
    throw new InvalidArgumentError('slots', 'reshard: expected a slot count or a non-empty list of slots');
  }
  const side = (label: Side['label'], n: ManagedNode): Side => ({
    label,
    ids: new Set([n.id, ...view.filter((e) => e.masterId === n.id).map((e) => e.id)]),
    master: n,
  });
  return { source: side('source', source), target: side('target', target), slots };
}

/** Masters other than the current source and target, as last seen (best effort: gossip covers the rest). */
function others(ctx: EngineContext, p: Plan): ManagedNode[] {
  return ctx.live().filter((n) => n.role === 'master' && n !== p.source.master && n !== p.target.master);
}

/**
 * Sends `commands` to `port` all at once (concurrent calls on one connection
 * travel as one pipeline, so the node saves nodes.conf once for the batch);
 * throws the first error reply.
 */
async function pipeline(ctx: EngineContext, port: number, commands: Array<Array<string | number>>): Promise<void> {
  await Promise.all(commands.map(([cmd, ...args]) => ctx.admin.call(port, String(cmd), ...args)));
}

function authArgs(ctx: EngineContext): string[] {
  const auth = ctx.settings.auth;
  if (auth === undefined) return [];
  return auth.username === undefined ? ['AUTH', auth.password] : ['AUTH2', auth.username, auth.password];
}

/** The engine's admin connections as slot repair's {@link NodeAccess}. */
export function nodeAccess(ctx: EngineContext): NodeAccess {
  return {
    host: '127.0.0.1',
    targetHost: (port) => ctx.live().find((n) => n.proc.port === port)?.proc.announcedIp ?? '127.0.0.1',
    call: (port, command, ...args) => ctx.admin.call(port, command, ...args), migrateAuth: authArgs(ctx) };
}

/** `redis-cli --cluster fix` for open slots, on the engine's live nodes; waits for health afterwards. */
export async function fixEngineOpenSlots(ctx: EngineContext, timeoutMs = ctx.defaultTimeoutMs): Promise<SlotFix[]> {
  const fixes: SlotFix[] = [];
  const deadline = Date.now() + timeoutMs;
  // While a failover is still settling, a slot can be re-opened or seen half-way: fix again until healthy.
  for (;;) {
    fixes.push(...(await fixOpenSlots(nodeAccess(ctx), ctx.live().map((n) => n.proc.port))));
    try {
      await ctx.waitForHealthy(Math.max(1000, Math.min(10_000, deadline - Date.now())));
      return fixes;
    } catch (err) {
      if (Date.now() >= deadline) throw err;
    }
  }
}

/** Moves slots from one master to another, live. See the module comment for the protocol. */
export async function reshard(ctx: EngineContext, options: ReshardOptions): Promise<ReshardReport> {
  const started = Date.now();
  const batchSize = positiveInt('batchSize', options.batchSize, 100);
  const perRound = positiveInt('slotsPerRound', options.slotsPerRound, 64);
  const p = await plan(ctx, options);
  const access = nodeAccess(ctx);
  const moved: Moved = { keys: 0 };
  let failoversSurvived = 0;
  for (let i = 0; i < p.slots.length; i += perRound) {
    options.signal?.throwIfAborted();
    const round = p.slots.slice(i, i + perRound);
    try {
      await runRound(ctx, p, access, round, batchSize, options, moved);
    } catch (err) {
      options.signal?.throwIfAborted();
      failoversSurvived += await recoverRound(ctx, p, access, round, batchSize, err, moved);
    }
    for (const slot of round) await options.hooks?.afterSlotFinalized?.(slot);
  }
  try {
    await ctx.waitForHealthy(options.timeoutMs ?? ctx.defaultTimeoutMs);
  } catch (err) {
    throw new ClusterEngineError(`reshard of ${p.slots.length} slots finished but the cluster did not agree: ${(err as Error).message}`, { cause: err });
  }
  return { slots: p.slots, keys: moved.keys, durationMs: Date.now() - started, failoversSurvived };
}

/** The happy path of one round: open all, move keys slot by slot, finalize all. */
async function runRound(ctx: EngineContext, p: Plan, access: NodeAccess, round: number[], batchSize: number, options: ReshardOptions, moved: Moved): Promise<void> {
  const source = p.source.master;
  const target = p.target.master;
  await pipeline(ctx, target.proc.port, round.map((s) => ['CLUSTER', 'SETSLOT', s, 'IMPORTING', source.id]));
  await pipeline(ctx, source.proc.port, round.map((s) => ['CLUSTER', 'SETSLOT', s, 'MIGRATING', target.id]));
  for (const slot of round) {
    moved.keys += await migrateSlotKeys(access, source.proc.port, target.proc.port, slot, batchSize);
    await options.hooks?.afterSlotKeysMigrated?.(slot);
  }
  // Target first: once the source points clients at the target, the target must already accept them.
  await pipeline(ctx, target.proc.port, round.map((s) => ['CLUSTER', 'SETSLOT', s, 'NODE', target.id]));
  moved.keys += await finalizeOnSource(ctx, access, source, target, round, batchSize);
  await tellOthers(ctx, p, round);
}

async function tellOthers(ctx: EngineContext, p: Plan, slots: number[]): Promise<void> {
  const target = p.target.master;
  await Promise.all(
    others(ctx, p).map((n) =>
      pipeline(ctx, n.proc.port, slots.map((s) => ['CLUSTER', 'SETSLOT', s, 'NODE', target.id])).catch(() => {
        // A master that cannot be reached (or turned replica) learns the new owner through gossip (higher config epoch).
      }),
    ),
  );
}

/**
 * A step of the round failed. Usually the source or target master failed
 * over (its replica does not know the migration), or a node was killed.
 * Waits for each side to have one agreed master, then finishes the round's
 * slots one by one against the current masters; retried a few times, since
 * a second failover may come while recovering.
 */
async function recoverRound(
  ctx: EngineContext, p: Plan, access: NodeAccess, round: number[], batchSize: number, first: unknown, moved: Moved,
): Promise<number> {
  let failovers = 0;
  let last = first;
  const deadline = Date.now() + ctx.defaultTimeoutMs;
  let attempt = 0;
  for (; attempt === 0 || Date.now() < deadline; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(2000, RECOVERY_PAUSE_MS * 2 ** attempt))); // pacing between polls, not synchronization
    const before = [p.source.master, p.target.master];
    try {
      await currentMaster(ctx, p.source);
      await currentMaster(ctx, p.target);
      if (p.source.master !== before[0] || p.target.master !== before[1]) failovers++;
      // Re-open every slot first: a target seeing any of them unassigned is down for all of them.
      for (const slot of round) await reopenSlot(ctx, p, slot);
      for (const slot of round) moved.keys += await finishSlot(ctx, p, access, slot, batchSize);
      await tellOthers(ctx, p, round);
      return failovers;
    } catch (err) {
      last = err;
    }
  }
  throw new ClusterEngineError(
    `reshard: could not finish slots ${round[0]}–${round[round.length - 1]} from ${p.source.master.proc.port} to ${p.target.master.proc.port} ` +
      `after ${attempt} attempts in ${ctx.defaultTimeoutMs} ms; first problem: ${errorText(first)}; last: ${errorText(last)}`,
    { cause: last },
  );
}

/**
 * Waits until exactly one running member of the side's shard says it is
 * master and every other running member replicates it; records it.
 */
async function currentMaster(ctx: EngineContext, side: Side): Promise<void> {
  side.master = await retryUntil(
    async () => {
      const members = ctx.live().filter((n) => side.ids.has(n.id));
      const selves = await Promise.all(members.map(async (n) => ({ n, me: (await ctx.view(n.proc.port)).find((e) => e.myself) })));
      const masters = selves.filter((x) => x.me?.role === 'master');
      if (masters.length !== 1) throw new Error(`the ${side.label} shard has ${masters.length} masters (${masters.map((x) => x.n.proc.port).join(', ') || 'none yet'})`);
      const m = masters[0]!.n;
      const stray = selves.filter((x) => x.n !== m && x.me?.masterId !== m.id);
      if (stray.length > 0) throw new Error(`${stray.map((x) => x.n.proc.port).join(', ')} do not yet replicate ${m.proc.port}`);
      m.role = 'master';
      for (const x of selves) if (x.n !== m) x.n.role = 'replica';
      return m;
    },
    { timeoutMs: ctx.defaultTimeoutMs, intervalMs: 50, what: `one agreed master of the reshard's ${side.label} shard` },
  );
}

/**
 * Opens one slot again between the current masters, whatever state a
 * failover left it in, unless the target owns it already. Idempotent.
 * Returns whether the slot is open (false: the target owns it).
 */
async function reopenSlot(ctx: EngineContext, p: Plan, slot: number): Promise<boolean> {
  const source = p.source.master;
  const target = p.target.master;
  const [tView, sView] = await Promise.all([ctx.view(target.proc.port), ctx.view(source.proc.port)]);
  const t = tView.find((e) => e.myself);
  const s = sView.find((e) => e.myself);
  if (!owns(t, slot)) {
    if (!owns(s, slot)) throw new Error(`slot ${slot} is owned by neither the source ${source.proc.port} nor the target ${target.proc.port} yet`);
    // A source that failed over loses its slots in the views of the others, and the
    // promoted replica's claim is ignored by a node importing them: the target would
    // see the slot unassigned (CLUSTERDOWN for everything it serves). Tell it.
    if (!tView.some((e) => e.id === source.id && owns(e, slot))) {
      await ctx.admin.call(target.proc.port, 'CLUSTER', 'SETSLOT', slot, 'NODE', source.id);
    }
    await ctx.admin.call(target.proc.port, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', source.id);
    await ctx.admin.call(source.proc.port, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', target.id);
    return true;
  }
  if (!owns(s, slot) && Number(await ctx.admin.call(source.proc.port, 'CLUSTER', 'COUNTKEYSINSLOT', slot)) > 0) {
    // Keys left on a source that no longer owns the slot: MIGRATE only runs on an open slot.
    await ctx.admin.call(source.proc.port, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', target.id);
  }
  return false;
}

/** Moves every key of `slot` the current source still holds to the current target, and finalizes. Idempotent. */
async function finishSlot(ctx: EngineContext, p: Plan, access: NodeAccess, slot: number, batchSize: number): Promise<number> {
  const source = p.source.master;
  const target = p.target.master;
  let keys = await migrateSlotKeys(access, source.proc.port, target.proc.port, slot, batchSize);
  await ctx.admin.call(target.proc.port, 'CLUSTER', 'SETSLOT', slot, 'NODE', target.id);
  keys += await finalizeOnSource(ctx, access, source, target, [slot], batchSize);
  return keys;
}

/**
 * `SETSLOT NODE` on the source. It fails with "still hold keys" if a key
 * arrived after the last GETKEYSINSLOT (only possible for keys that existed
 * there): move the stragglers and try again.
 */
async function finalizeOnSource(ctx: EngineContext, access: NodeAccess, source: ManagedNode, target: ManagedNode, round: number[], batchSize: number): Promise<number> {
  let extra = 0;
  let pending = round;
  for (let attempt = 0; pending.length > 0; attempt++) {
    const results = await Promise.allSettled(pending.map((s) => ctx.admin.call(source.proc.port, 'CLUSTER', 'SETSLOT', s, 'NODE', target.id)));
    const retry: number[] = [];
    for (const [i, r] of results.entries()) {
      if (r.status === 'fulfilled') continue;
      const text = (r.reason as Error).message;
      // Only with cluster-allow-replica-migration on (not in engine-made nodes): the target's epoch
      // bump reached the source by gossip first, took its last slots and made it the target's replica.
      // (A source that failed over is a replica of its own shard: that one is recovered by the caller.)
      if (/only with masters/i.test(text) && (await replicaOf(ctx, source)) === target.id) return extra;
      if (attempt >= 5 || !/still hold keys/i.test(text)) throw r.reason;
      retry.push(pending[i] as number);
    }
    for (const slot of retry) extra += await migrateSlotKeys(access, source.proc.port, target.proc.port, slot, batchSize);
    pending = retry;
  }
  return extra;
}

/** Id of the master `node` replicates now (null for a master). */
async function replicaOf(ctx: EngineContext, node: ManagedNode): Promise<string | null | undefined> {
  return (await ctx.view(node.proc.port)).find((e) => e.myself)?.masterId;
}
