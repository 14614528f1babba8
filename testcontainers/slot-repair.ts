/**
 * Finding and closing open slots (IMPORTING/MIGRATING left behind), with the
 * rules `redis-cli --cluster fix` applies (redis-cli.c, fix of open slots),
 * re-stated here in our own terms:
 *
 * - owners: masters whose own config assigns them the slot, plus masters
 *   that hold keys of it without owning it. One owner → that is the owner;
 *   otherwise the master with the most keys becomes it (STABLE, ADDSLOTS,
 *   BUMPEPOCH on it) and every other claimant is set to NODE owner +
 *   IMPORTING from the owner.
 * - migrating / importing: masters with that marker; a non-owner holding
 *   keys without a marker counts as importing.
 * - one migrating + one importing: finish the move to the importing node.
 * - none migrating, some importing: move their keys to the owner, close the
 *   slot on them, tell every master the owner.
 * - one migrating, several importing (all without keys): finish the move to
 *   the node the migrating one points at, close the others; if it points at
 *   none of them, close everywhere.
 * - one migrating, nothing importing, and it owns the slot or holds no keys:
 *   close it (a reshard interrupted before any key moved, or after the last).
 * - anything else is refused with the state it found.
 *
 * Works on any cluster reachable through a {@link NodeAccess} (the engine's
 * admin pool, or the CLI's), one host, nodes named by port.
 */
import { ClusterEngineError } from '../lib/errors.js';
import { errorText } from './admin.js';
import { parseClusterNodes, type ClusterNodesEntry } from './cluster-state.js';

/** How slot repair reaches the nodes. */
export interface NodeAccess {
  /** The host every node listens on (nodes are told apart by port). */
  readonly host: string;
  /** The address node `port` announces, which MIGRATE sent BY a node must use (on a bridge network it is not ours). */
  targetHost?(port: number): string;
  /** Sends one command to the node on `port`; resolves its reply. */
  call(port: number, command: string, ...args: Array<string | number>): Promise<unknown>;
  /** `AUTH …`/`AUTH2 …` arguments MIGRATE needs for the target ('' when none). */
  readonly migrateAuth: readonly string[];
}

/** A master as it describes itself. */
export interface MasterState {
  /** Its port. */
  readonly port: number;
  /** Its cluster node id. */
  readonly id: string;
  /** Its own line of CLUSTER NODES (`myself`), parsed. */
  readonly self: ClusterNodesEntry;
}

/** One slot with a migration marker somewhere. */
export interface OpenSlot {
  /** The hash slot. */
  readonly slot: number;
  /** Ports of masters MIGRATING it, with the id they migrate to. */
  readonly migrating: ReadonlyArray<{
    /** Port of the MIGRATING master. */
    port: number;
    /** Node id it migrates to. */
    to: string;
  }>;
  /** Ports of masters IMPORTING it, with the id they import from. */
  readonly importing: ReadonlyArray<{
    /** Port of the IMPORTING master. */
    port: number;
    /** Node id it imports from. */
    from: string;
  }>;
}

/** What was done to close one slot. */
export interface SlotFix {
  /** The hash slot. */
  readonly slot: number;
  /** Which rule applied, e.g. 'moved to importing node'. */
  readonly action: string;
  /** Port of the master owning the slot afterwards. */
  readonly ownerPort: number;
}

const MIGRATE_TIMEOUT_MS = 10_000;

function owns(entry: ClusterNodesEntry, slot: number): boolean {
  return entry.slots.some(([a, b]) => slot >= a && slot <= b);
}

/** Every reachable master's own view, discovered from the nodes on `seedPorts`. */
export async function readMasters(access: NodeAccess, seedPorts: readonly number[]): Promise<MasterState[]> {
  let view: ClusterNodesEntry[] | undefined;
  let last: unknown;
  for (const port of seedPorts) {
    try {
      view = parseClusterNodes(String(await access.call(port, 'CLUSTER', 'NODES')));
      break;
    } catch (err) {
      last = err;
    }
  }
  if (view === undefined) throw new ClusterEngineError(`no node answered CLUSTER NODES: ${errorText(last)}`, { cause: last });
  const candidates = view.filter((e) => e.role === 'master' && !e.failed && !e.incomplete && e.port > 0);
  const masters: MasterState[] = [];
  for (const e of candidates) {
    const self = parseClusterNodes(String(await access.call(e.port, 'CLUSTER', 'NODES'))).find((n) => n.myself);
    // A node that turned replica since the seed answered is not a master.
    if (self?.role === 'master') masters.push({ port: e.port, id: self.id, self });
  }
  return masters;
}

/** Slots some master reports as importing or migrating. */
export function openSlots(masters: readonly MasterState[]): OpenSlot[] {
  const bySlot = new Map<number, { migrating: Array<{ port: number; to: string }>; importing: Array<{ port: number; from: string }> }>();
  const at = (slot: number) => {
    let o = bySlot.get(slot);
    if (o === undefined) bySlot.set(slot, (o = { migrating: [], importing: [] }));
    return o;
  };
  for (const m of masters) {
    for (const { slot, to } of m.self.migrating) at(slot).migrating.push({ port: m.port, to });
    for (const { slot, from } of m.self.importing) at(slot).importing.push({ port: m.port, from });
  }
  return [...bySlot.entries()].sort((a, b) => a[0] - b[0]).map(([slot, o]) => ({ slot, ...o }));
}

async function countKeys(access: NodeAccess, port: number, slot: number): Promise<number> {
  return Number(await access.call(port, 'CLUSTER', 'COUNTKEYSINSLOT', slot));
}

/**
 * MIGRATEs every key of `slot` from `from` to `to`, in batches, REPLACE-ing
 * copies on the target (they can only be leftovers of an earlier attempt).
 * Returns the number of keys moved.
 */
export async function migrateSlotKeys(access: NodeAccess, from: number, to: number, slot: number, batchSize = 100): Promise<number> {
  let moved = 0;
  for (;;) {
    const keys = (await access.call(from, 'CLUSTER', 'GETKEYSINSLOT', slot, batchSize)) as string[];
    if (keys.length === 0) return moved;
    await access.call(from, 'MIGRATE', access.targetHost?.(to) ?? access.host, to, '', 0, MIGRATE_TIMEOUT_MS, 'REPLACE', ...access.migrateAuth, 'KEYS', ...keys);
    moved += keys.length;
  }
}

/** SETSLOT NODE on the target, then the source (it may have become a replica), then the rest. */
async function assign(access: NodeAccess, masters: readonly MasterState[], slot: number, owner: MasterState, first: readonly MasterState[]): Promise<void> {
  await access.call(owner.port, 'CLUSTER', 'SETSLOT', slot, 'NODE', owner.id);
  for (const m of [...first, ...masters.filter((x) => x !== owner && !first.includes(x))]) {
    if (m === owner) continue;
    await access.call(m.port, 'CLUSTER', 'SETSLOT', slot, 'NODE', owner.id).catch((err: unknown) => {
      if (!/only with masters/i.test(errorText(err))) throw err;
    });
  }
}

async function moveSlot(access: NodeAccess, masters: readonly MasterState[], slot: number, src: MasterState, dst: MasterState): Promise<void> {
  await access.call(dst.port, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', src.id);
  await access.call(src.port, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', dst.id);
  await migrateSlotKeys(access, src.port, dst.port, slot);
  await assign(access, masters, slot, dst, [src]);
}

/** Closes one open slot; see the module comment for the rules. */
export async function fixOpenSlot(access: NodeAccess, masters: readonly MasterState[], slot: number): Promise<SlotFix> {
  const keys = new Map<MasterState, number>();
  for (const m of masters) keys.set(m, await countKeys(access, m.port, slot));
  const claimants = masters.filter((m) => owns(m.self, slot) || (keys.get(m) ?? 0) > 0);
  let owner = claimants.length === 1 ? claimants[0] : undefined;
  let migrating = masters.filter((m) => m.self.migrating.some((x) => x.slot === slot));
  let importing = masters.filter((m) => !migrating.includes(m) && (m.self.importing.some((x) => x.slot === slot) || (m !== owner && (keys.get(m) ?? 0) > 0)));
  const describe = () =>
    `slot ${slot}: migrating on ${migrating.map((m) => m.port).join(',') || 'none'}, importing on ${importing.map((m) => m.port).join(',') || 'none'}, owner ${owner?.port ?? 'none'}`;

  if (owner === undefined) {
    // The node holding most of the slot's keys keeps it (ties: a configured owner first).
    const ranked = [...masters].sort((a, b) => (keys.get(b) ?? 0) - (keys.get(a) ?? 0) || Number(owns(b.self, slot)) - Number(owns(a.self, slot)));
    owner = ranked[0];
    if (owner === undefined) throw new ClusterEngineError(`cannot fix slot ${slot}: no master reachable`);
    await access.call(owner.port, 'CLUSTER', 'SETSLOT', slot, 'STABLE');
    if (owns(owner.self, slot) || claimants.length > 0) await access.call(owner.port, 'CLUSTER', 'DELSLOTS', slot).catch(() => undefined);
    await access.call(owner.port, 'CLUSTER', 'ADDSLOTS', slot);
    await access.call(owner.port, 'CLUSTER', 'BUMPEPOCH');
    migrating = migrating.filter((m) => m !== owner);
    importing = importing.filter((m) => m !== owner);
  }
  if (claimants.length > 1) {
    for (const m of claimants) {
      if (m === owner) continue;
      if (owns(m.self, slot)) await access.call(m.port, 'CLUSTER', 'DELSLOTS', slot).catch(() => undefined);
      await access.call(m.port, 'CLUSTER', 'SETSLOT', slot, 'NODE', owner.id);
      await access.call(m.port, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', owner.id);
      importing = [...importing.filter((x) => x !== m), m];
      migrating = migrating.filter((x) => x !== m);
    }
  }

  if (migrating.length === 1 && importing.length === 1) {
    await moveSlot(access, masters, slot, migrating[0]!, importing[0]!);
    return { slot, action: `moved from ${migrating[0]!.port} to the importing node ${importing[0]!.port}`, ownerPort: importing[0]!.port };
  }
  if (migrating.length === 0 && importing.length > 0) {
    for (const m of importing) {
      if (m === owner) continue;
      await migrateSlotKeys(access, m.port, owner.port, slot);
      await access.call(m.port, 'CLUSTER', 'SETSLOT', slot, 'STABLE');
    }
    await assign(access, masters, slot, owner, []);
    return { slot, action: `keys of ${importing.map((m) => m.port).join(',')} moved to the owner ${owner.port}`, ownerPort: owner.port };
  }
  if (migrating.length === 1 && importing.length > 1) {
    const src = migrating[0]!;
    if (importing.some((m) => (keys.get(m) ?? 0) > 0)) throw new ClusterEngineError(`cannot fix ${describe()} (importing nodes hold keys)`);
    const toId = src.self.migrating.find((x) => x.slot === slot)?.to;
    const dst = importing.find((m) => m.id === toId);
    if (dst !== undefined) {
      await moveSlot(access, masters, slot, src, dst);
      for (const m of importing) if (m !== dst) await access.call(m.port, 'CLUSTER', 'SETSLOT', slot, 'STABLE');
      return { slot, action: `moved from ${src.port} to ${dst.port}; closed on the other importing nodes`, ownerPort: dst.port };
    }
    for (const m of [src, ...importing]) await access.call(m.port, 'CLUSTER', 'SETSLOT', slot, 'STABLE');
    return { slot, action: 'closed on the migrating and every importing node', ownerPort: owner.port };
  }
  if (migrating.length === 1 && importing.length === 0) {
    const m = migrating[0]!;
    if (m === owner || (keys.get(m) ?? 0) === 0) {
      await access.call(m.port, 'CLUSTER', 'SETSLOT', slot, 'STABLE');
      return { slot, action: `closed on ${m.port}`, ownerPort: owner.port };
    }
  }
  if (migrating.length === 0 && importing.length === 0) return { slot, action: 'already closed', ownerPort: owner.port };
  throw new ClusterEngineError(`cannot fix ${describe()}`);
}

/**
 * Slots a reachable master does not claim in its own config (its `myself` line) while its peers
 * credit it with them: that node reports `cluster_state:fail` and refuses every command, MIGRATE
 * included, so no open slot of it can be closed either. Seen in a soak after a master was killed
 * mid-migration and its replica took over. Like `redis-cli --cluster fix` ("uncovered slots"),
 * the node gets the slot back (ADDSLOTS, then BUMPEPOCH so its claim wins). Slots whose credited
 * owner is down or unknown are left alone: they belong to a node that may come back.
 */
export async function fixUncoveredSlots(access: NodeAccess, masters: readonly MasterState[]): Promise<SlotFix[]> {
  const claimed = new Uint8Array(16384);
  for (const m of masters) for (const [a, b] of m.self.slots) claimed.fill(1, a, b + 1);
  if (claimed.every((c) => c === 1) || masters.length === 0) return [];
  const views = await Promise.all(masters.map(async (m) => parseClusterNodes(String(await access.call(m.port, 'CLUSTER', 'NODES')))));
  const fixes: SlotFix[] = [];
  const bumped = new Set<MasterState>();
  for (let slot = 0; slot < 16384; slot++) {
    if (claimed[slot] === 1) continue;
    const credit = new Map<string, number>();
    for (const view of views) {
      const owner = view.find((e) => !e.myself && e.role === 'master' && owns(e, slot));
      if (owner !== undefined) credit.set(owner.id, (credit.get(owner.id) ?? 0) + 1);
    }
    const [id] = [...credit].sort((x, y) => y[1] - x[1])[0] ?? [];
    const owner = masters.find((m) => m.id === id);
    if (owner === undefined) continue;
    await access.call(owner.port, 'CLUSTER', 'ADDSLOTS', slot);
    bumped.add(owner);
    fixes.push({ slot, action: `uncovered (its owner no longer claimed it itself): ADDSLOTS on ${owner.port}`, ownerPort: owner.port });
  }
  for (const m of bumped) await access.call(m.port, 'CLUSTER', 'BUMPEPOCH');
  return fixes;
}

/**
 * Gives every uncovered slot an owner (see fixUncoveredSlots), then closes every open slot of the
 * cluster reachable from `seedPorts`; returns what was done per slot.
 */
export async function fixOpenSlots(access: NodeAccess, seedPorts: readonly number[]): Promise<SlotFix[]> {
  const fixes: SlotFix[] = await fixUncoveredSlots(access, await readMasters(access, seedPorts));
  for (const { slot } of openSlots(await readMasters(access, seedPorts))) {
    // Re-read before each slot: fixing one changes the config epochs and views the next relies on.
    fixes.push(await fixOpenSlot(access, await readMasters(access, seedPorts), slot));
  }
  return fixes;
}
