import { commandPolicy } from './commands.js';
import { slotOf } from '../core/slots.js';

/**
 * Splitting multi-key commands by slot and merging the replies in the
 * caller's order. Pure functions: the dispatcher sends the parts.
 *
 * Which commands split comes from Redis' own command tips: `multi_shard`
 * commands whose arguments are all key groups (MGET, MSET, DEL, UNLINK,
 * EXISTS, TOUCH). All-or-nothing commands (MSETNX, …) carry no such tip and
 * are never split: their keys must share a slot (CrossSlotError otherwise).
 */

/** How the parts' replies become the caller's reply. */
export type MergeKind =
  /** Each part replies with an array, one element per key group: put them back in the caller's order (MGET). */
  | 'ordered'
  /** Integer replies added up (DEL, UNLINK, EXISTS, TOUCH). */
  | 'sum'
  /** Every part must succeed; the reply is the first part's (MSET → 'OK'). */
  | 'all';

/** One slot's share of a split command. */
export interface SplitPart {
  /**
   * The command this part sends: the caller's, except that an MGET part
   * with a single key is sent as GET (same reply, no array to build or parse).
   */
  readonly command: string;
  readonly slot: number;
  /** Arguments of this part: its key groups, in the caller's order. */
  readonly args: readonly unknown[];
  /** For each key group of this part, its position among the caller's key groups. */
  readonly groups: readonly number[];
}

/** A command split by slot. */
export interface SplitPlan {
  readonly merge: MergeKind;
  /** Key groups in the caller's command (keys for MGET, key/value pairs for MSET). */
  readonly groupCount: number;
  readonly parts: readonly SplitPart[];
}

interface Layout {
  readonly step: number;
  readonly merge: MergeKind;
}

const layouts = new Map<string, Layout | null>();

/** The split layout of a lower-case command, or undefined when it is never split. */
export function splitLayout(name: string): Layout | undefined {
  let l = layouts.get(name);
  if (l === undefined) {
    const p = commandPolicy(name);
    const simple = p !== undefined && p.request === 'multi_shard' && !p.movableKeys && p.keyStart === 1 && p.keyStop === -1 && p.step >= 1;
    const merge: MergeKind | undefined = !simple
      ? undefined
      : p.response === 'agg_sum' ? 'sum' : p.response === 'all_succeeded' ? 'all' : p.response === undefined ? 'ordered' : undefined;
    l = merge === undefined ? null : { step: p!.step, merge };
    layouts.set(name, l);
  }
  return l ?? undefined;
}

/** True when the command splits across slots (MGET, MSET, DEL, UNLINK, EXISTS, TOUCH). */
export function isSplittable(name: string): boolean {
  return splitLayout(name) !== undefined;
}

/**
 * What is wrong with a splittable command's arguments (no keys, or an
 * incomplete key/value pair), or undefined when they are well formed.
 */
export function splitArgumentProblem(name: string, args: readonly unknown[]): string | undefined {
  const layout = splitLayout(name);
  if (layout === undefined) return undefined;
  if (args.length > 0 && args.length % layout.step === 0) return undefined;
  const what = layout.step === 1 ? 'one or more keys' : `key/value pairs (a multiple of ${layout.step} arguments)`;
  return `${name.toUpperCase()} expects ${what}, got ${args.length} argument${args.length === 1 ? '' : 's'}`;
}

/**
 * Splits a command by the slots of its keys. `args` are normalized
 * (flattened, strings/Buffers). Returns undefined when the command does not
 * split or its arguments are malformed (the server reports arity); the slot
 * when every key shares one — then it is sent whole, stays atomic, and the
 * executor need not hash the keys again.
 */
export function planSplit(name: string, args: readonly unknown[]): SplitPlan | number | undefined {
  const layout = splitLayout(name);
  if (layout === undefined) return undefined;
  const { step } = layout;
  if (args.length === 0 || args.length % step !== 0) return undefined;
  const groupCount = args.length / step;
  // The common case first, without allocating: every key in one slot.
  const first = slotOf(args[0] as string | Buffer);
  let g0 = 1;
  while (g0 < groupCount && slotOf(args[g0 * step] as string | Buffer) === first) g0++;
  if (g0 === groupCount) return first;
  const bySlot = new Map<number, { args: unknown[]; groups: number[] }>();
  for (let g = 0; g < groupCount; g++) {
    const slot = slotOf(args[g * step] as string | Buffer);
    let part = bySlot.get(slot);
    if (part === undefined) bySlot.set(slot, (part = { args: [], groups: [] }));
    for (let i = 0; i < step; i++) part.args.push(args[g * step + i]);
    part.groups.push(g);
  }
  if (bySlot.size === 1) return undefined;
  return {
    merge: layout.merge,
    groupCount,
    parts: [...bySlot].map(([slot, p]) => ({ command: name === 'mget' && p.groups.length === 1 ? 'get' : name, slot, args: p.args, groups: p.groups })),
  };
}

/** Merges the parts' replies (in `plan.parts` order) into the caller's reply. */
export function mergeSplit(plan: SplitPlan, replies: readonly unknown[]): unknown {
  switch (plan.merge) {
    case 'sum':
      return replies.reduce<number>((total, r) => total + Number(r), 0);
    case 'all':
      return replies[0];
    case 'ordered': {
      const out = new Array<unknown>(plan.groupCount);
      plan.parts.forEach((part, i) => {
        const reply = (part.command === 'get' ? [replies[i]] : replies[i]) as readonly unknown[];
        part.groups.forEach((g, j) => {
          out[g] = reply[j];
        });
      });
      return out;
    }
  }
}
