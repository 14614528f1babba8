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
 */
import { ClusterEngineError, InvalidArgumentError } from '../lib/errors.js';
import { SLOT_COUNT } from './cluster-state.js';
import type { EngineContext, ManagedNode } from './context.js';
import { fixOpenSlots, type NodeAccess, type SlotFix } from './slot-repair.js';
import type { ReshardOptions, ReshardReport } from './types.js';

const MIGRATE_TIMEOUT_MS = 10_000;

interface Plan {
  readonly source: ManagedNode;
  readonly target: ManagedNode;
  readonly slots: number[];
  readonly others: ManagedNode[];
}

function positiveInt(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(name, `${String(value)} is not a positive integer`);
  }
  return value;
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
  const others = ctx
    .live()
    .filter((n) => n !== source && n !== target && view.find((e) => e.id === n.id)?.role === 'master');
  return { source, target, slots, others };
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
  return { host: ctx.host, call: (port, command, ...args) => ctx.admin.call(port, command, ...args), migrateAuth: authArgs(ctx) };
}

/** `redis-cli --cluster fix` for open slots, on the engine's live nodes; waits for health afterwards. */
export async function fixEngineOpenSlots(ctx: EngineContext, timeoutMs = ctx.defaultTimeoutMs): Promise<SlotFix[]> {
  const fixes = await fixOpenSlots(nodeAccess(ctx), ctx.live().map((n) => n.proc.port));
  await ctx.waitForHealthy(timeoutMs);
  return fixes;
}

async function migrateKeys(ctx: EngineContext, p: Plan, slot: number, batchSize: number): Promise<number> {
  let moved = 0;
  for (;;) {
    const keys = (await ctx.admin.call(p.source.proc.port, 'CLUSTER', 'GETKEYSINSLOT', slot, batchSize)) as string[];
    if (keys.length === 0) return moved;
    // REPLACE: the source owns the slot, so its copy wins; a key already on the
    // target can only be a leftover of an interrupted earlier migration.
    await ctx.admin.call(
      p.source.proc.port,
      'MIGRATE',
      ctx.host,
      p.target.proc.port,
      '',
      0,
      MIGRATE_TIMEOUT_MS,
      'REPLACE',
      ...authArgs(ctx),
      'KEYS',
      ...keys,
    );
    moved += keys.length;
  }
}

/** Moves slots from one master to another, live. See the module comment for the protocol. */
export async function reshard(ctx: EngineContext, options: ReshardOptions): Promise<ReshardReport> {
  const started = Date.now();
  const batchSize = positiveInt('batchSize', options.batchSize, 100);
  const perRound = positiveInt('slotsPerRound', options.slotsPerRound, 64);
  const p = await plan(ctx, options);
  const { source, target } = p;
  let keys = 0;
  for (let i = 0; i < p.slots.length; i += perRound) {
    options.signal?.throwIfAborted();
    const round = p.slots.slice(i, i + perRound);
    await pipeline(ctx, target.proc.port, round.map((s) => ['CLUSTER', 'SETSLOT', s, 'IMPORTING', source.id]));
    await pipeline(ctx, source.proc.port, round.map((s) => ['CLUSTER', 'SETSLOT', s, 'MIGRATING', target.id]));
    for (const slot of round) {
      keys += await migrateKeys(ctx, p, slot, batchSize);
      await options.hooks?.afterSlotKeysMigrated?.(slot);
    }
    // Target first: once the source points clients at the target, the target must already accept them.
    await pipeline(ctx, target.proc.port, round.map((s) => ['CLUSTER', 'SETSLOT', s, 'NODE', target.id]));
    await finalizeOnSource(ctx, p, round, batchSize).then((n) => (keys += n));
    await Promise.all(
      p.others.map((n) =>
        pipeline(ctx, n.proc.port, round.map((s) => ['CLUSTER', 'SETSLOT', s, 'NODE', target.id])).catch(() => {
          // A master that cannot be reached learns the new owner through gossip (higher config epoch).
        }),
      ),
    );
    for (const slot of round) await options.hooks?.afterSlotFinalized?.(slot);
  }
  try {
    await ctx.waitForHealthy(options.timeoutMs ?? ctx.defaultTimeoutMs);
  } catch (err) {
    throw new ClusterEngineError(`reshard of ${p.slots.length} slots finished but the cluster did not agree: ${(err as Error).message}`, { cause: err });
  }
  return { slots: p.slots, keys, durationMs: Date.now() - started };
}

/**
 * `SETSLOT NODE` on the source. It fails with "still hold keys" if a key
 * arrived after the last GETKEYSINSLOT (only possible for keys that existed
 * there): move the stragglers and try again.
 */
async function finalizeOnSource(ctx: EngineContext, p: Plan, round: number[], batchSize: number): Promise<number> {
  let extra = 0;
  let pending = round;
  for (let attempt = 0; pending.length > 0; attempt++) {
    const results = await Promise.allSettled(pending.map((s) => ctx.admin.call(p.source.proc.port, 'CLUSTER', 'SETSLOT', s, 'NODE', p.target.id)));
    const retry: number[] = [];
    for (const [i, r] of results.entries()) {
      if (r.status === 'fulfilled') continue;
      const text = (r.reason as Error).message;
      // Only with cluster-allow-replica-migration on (not in engine-made nodes): the target's epoch
      // bump reached the source by gossip first, took its last slots and made it the target's replica.
      if (/only with masters/i.test(text)) return extra;
      if (attempt >= 5 || !/still hold keys/i.test(text)) throw r.reason;
      retry.push(pending[i] as number);
    }
    for (const slot of retry) extra += await migrateKeys(ctx, p, slot, batchSize);
    pending = retry;
  }
  return extra;
}
