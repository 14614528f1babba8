import { TopologyError } from '../errors.js';
import { SLOT_COUNT } from '../core/slots.js';

/**
 * What one node says about itself in `CLUSTER NODES` (its `myself` line):
 * the facts a cluster-wide scan needs to know whether the node's keys stayed
 * put while it was being scanned.
 */
export interface SelfView {
  readonly id: string;
  readonly role: 'master' | 'replica';
  /** The node's config epoch: it changes when the node is promoted or takes over slots. */
  readonly epoch: string;
  /** 1 for every slot the node owns (whether or not it is migrating away). */
  readonly owned: Uint8Array;
  /** Slots the node is migrating to another node (`[slot->-id]`). */
  readonly migrating: ReadonlySet<number>;
}

/**
 * Parses the `myself` line of a `CLUSTER NODES` reply:
 * `<id> <addr> <flags> <master> <ping> <pong> <epoch> <link> <slot>…` where a
 * slot entry is `n`, `a-b`, `[n->-id]` (migrating) or `[n-<-id]` (importing).
 */
export function parseSelfView(reply: unknown): SelfView {
  const text = Buffer.isBuffer(reply) ? reply.toString() : String(reply);
  const line = text.split('\n').find((l) => {
    const flags = l.split(' ')[2];
    return flags !== undefined && flags.split(',').includes('myself');
  });
  if (line === undefined) throw new TopologyError('CLUSTER NODES reply has no "myself" line');
  const f = line.trim().split(' ');
  if (f.length < 8) throw new TopologyError(`Malformed CLUSTER NODES line: "${line.slice(0, 120)}"`);
  const flags = f[2]!.split(',');
  const owned = new Uint8Array(SLOT_COUNT);
  const migrating = new Set<number>();
  for (const entry of f.slice(8)) {
    if (entry.startsWith('[')) {
      const m = /^\[(\d+)->-/.exec(entry);
      if (m) migrating.add(Number(m[1]));
      continue;
    }
    const dash = entry.indexOf('-');
    const from = Number(dash === -1 ? entry : entry.slice(0, dash));
    const to = dash === -1 ? from : Number(entry.slice(dash + 1));
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to >= SLOT_COUNT || from > to) {
      throw new TopologyError(`Malformed slot range "${entry}" in CLUSTER NODES`);
    }
    owned.fill(1, from, to + 1);
  }
  return {
    id: f[0]!,
    role: flags.includes('master') ? 'master' : 'replica',
    epoch: f[6]!,
    owned,
    migrating,
  };
}

/**
 * Slots whose keys provably stayed on the node between two views taken
 * before and after a complete scan of it: owned both times, never seen
 * migrating, the node a master both times with an unchanged config epoch
 * (a promotion, or taking slots back, bumps it). Returns one flag per slot.
 */
export function stableSlots(before: SelfView, after: SelfView): Uint8Array {
  const out = new Uint8Array(SLOT_COUNT);
  if (before.role !== 'master' || after.role !== 'master' || before.id !== after.id || before.epoch !== after.epoch) return out;
  for (let s = 0; s < SLOT_COUNT; s++) {
    if (before.owned[s] === 1 && after.owned[s] === 1 && !before.migrating.has(s) && !after.migrating.has(s)) out[s] = 1;
  }
  return out;
}
