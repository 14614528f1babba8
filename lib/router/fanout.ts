import { commandPolicy, subcommandsOf } from './commands.js';

/**
 * Keyless commands that Redis says a cluster client should send to every
 * shard or node (request_policy `all_shards` / `all_nodes`), and how to
 * combine their replies (response_policy). Pure: the dispatcher sends.
 *
 * So `client.dbsize()` is the cluster's key count, `client.flushall()`
 * empties every master, `client.script('LOAD', lua)` loads on every node.
 * Commands with a `special` policy (INFO, RANDOMKEY, SCAN, …) keep running on
 * one node: no generic merge is right for them.
 */

export type Reducer = 'sum' | 'min' | 'max' | 'and' | 'or' | 'all' | 'one' | 'concat';

/** Where a keyless command goes and how replies combine. */
export interface FanOut {
  /** `masters` (one per shard) or `all` (masters and replicas). */
  readonly targets: 'masters' | 'all';
  readonly reduce: Reducer;
}

const RESPONSE: Readonly<Record<string, Reducer>> = {
  agg_sum: 'sum',
  agg_min: 'min',
  agg_max: 'max',
  agg_logical_and: 'and',
  agg_logical_or: 'or',
  all_succeeded: 'all',
  one_succeeded: 'one',
};

/**
 * Tips we do not follow: PING is a liveness check of the client's path to the
 * cluster, and one healthy master answering it is the useful answer — a
 * fan-out would fail it whenever any one master is down, which the router
 * otherwise hides.
 */
const SINGLE_NODE = new Set(['ping']);

const candidates = new Map<string, boolean>();

/** Cheap pre-check: can this command (or one of its subcommands) fan out at all? */
export function mayFanOut(name: string): boolean {
  let c = candidates.get(name);
  if (c === undefined && SINGLE_NODE.has(name)) c = false;
  if (c === undefined) {
    const fans = (p: { request: string | undefined } | undefined) => p?.request === 'all_shards' || p?.request === 'all_nodes';
    c = fans(commandPolicy(name)) || subcommandsOf(name).some((sub) => fans(commandPolicy(name, sub)));
    candidates.set(name, c);
  }
  return c;
}

/** The fan-out of a lower-case command with its (normalized) args, or undefined to route normally. */
export function fanOutPolicy(name: string, args: readonly unknown[]): FanOut | undefined {
  if (SINGLE_NODE.has(name)) return undefined;
  const p = commandPolicy(name, args[0]);
  if (p === undefined || (p.request !== 'all_shards' && p.request !== 'all_nodes')) return undefined;
  const reduce = p.response === undefined ? 'concat' : RESPONSE[p.response];
  if (reduce === undefined) return undefined;
  return { targets: p.request === 'all_nodes' ? 'all' : 'masters', reduce };
}

/** One node's outcome. */
export type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: Error };

/**
 * Combines every node's outcome. Any failure fails the whole call (the first
 * one, in node order), except for `one` (first success wins).
 */
export function reduceOutcomes(reduce: Reducer, outcomes: readonly Outcome[]): unknown {
  if (reduce === 'one') {
    const win = outcomes.find((o) => o.ok);
    if (win) return (win as { value: unknown }).value;
  }
  const failed = outcomes.find((o) => !o.ok);
  if (failed) throw (failed as { error: Error }).error;
  const values = outcomes.map((o) => (o as { value: unknown }).value);
  switch (reduce) {
    case 'all':
    case 'one':
      return values[0];
    case 'concat':
      return values.every(Array.isArray) ? (values as unknown[][]).flat() : values;
    default:
      return combine(reduce, values);
  }
}

/** Numeric aggregation, element-wise for array replies (SCRIPT EXISTS). */
function combine(reduce: 'sum' | 'min' | 'max' | 'and' | 'or', values: readonly unknown[]): unknown {
  if (values.length === 0) return reduce === 'sum' ? 0 : null;
  if (Array.isArray(values[0])) {
    const first = values[0] as unknown[];
    return first.map((_, i) => combine(reduce, values.map((v) => (v as unknown[])[i])));
  }
  const nums = values.map(Number);
  switch (reduce) {
    case 'sum':
      return nums.reduce((a, b) => a + b, 0);
    case 'min':
      return Math.min(...nums);
    case 'max':
      return Math.max(...nums);
    case 'and':
      return nums.every((n) => n !== 0) ? 1 : 0;
    case 'or':
      return nums.some((n) => n !== 0) ? 1 : 0;
  }
}
