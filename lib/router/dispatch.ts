import { Command } from 'ioredis';
import { commandProblem, execOptionsProblem } from '../core/arguments.js';
import { InvalidArgumentError } from '../errors.js';
import type { NodeHandle } from '../node/node-handle.js';
import { fanOutPolicy, mayFanOut, reduceOutcomes, type Outcome } from './fanout.js';
import type { ExecOptions, RouteOptions } from './request.js';
import type { SlotSequencer } from './sequencer.js';
import { isSplittable, mergeSplit, planSplit, splitArgumentProblem } from './split.js';

/** The route of a request that is neither pinned nor sequenced (shared: no object per command). */
const FREE_ROUTE: RouteOptions = Object.freeze({});
const NO_OPTIONS: ExecOptions = Object.freeze({});

/** What the dispatcher needs from the client. */
export interface DispatchHost {
  execute(name: string, args: readonly unknown[], opts: ExecOptions, route: RouteOptions): Promise<unknown>;
  /** Resolves once the first topology is known (connecting when needed). */
  ready(): Promise<void>;
  /** Live nodes of the current map: one master per shard, or every node. */
  targets(which: 'masters' | 'all'): NodeHandle[];
}

/**
 * The step before the executor: a multi-key command whose keys span slots
 * becomes one request per slot (merged in the caller's order), a keyless
 * command Redis marks all_shards/all_nodes becomes one request per node
 * (replies aggregated), anything else is one request. Every part goes
 * through the executor, so each has the full routing guarantees (MOVED/ASK,
 * waits, one deadline, no unsafe re-send).
 */
export class Dispatcher {
  readonly #host: DispatchHost;

  constructor(host: DispatchHost) {
    this.#host = host;
  }

  /** Runs one caller command; `sequencer` places its parts in a pipeline's per-slot order. */
  send(name: string, args: readonly unknown[], opts: ExecOptions = NO_OPTIONS, sequencer?: SlotSequencer): Promise<unknown> {
    const bad = commandProblem(name, args) ?? (opts === NO_OPTIONS ? undefined : execOptionsProblem(opts));
    if (bad !== undefined) return Promise.reject(bad);
    const lower = name.toLowerCase();
    const route: RouteOptions = sequencer === undefined ? FREE_ROUTE : { sequencer };
    if (isSplittable(lower)) {
      const flat = normalize(lower, args);
      const problem = splitArgumentProblem(lower, flat);
      if (problem !== undefined) return Promise.reject(new InvalidArgumentError(`${lower.toUpperCase()} arguments`, problem, { command: lower.toUpperCase() }));
      const plan = planSplit(lower, flat);
      if (plan !== undefined) {
        const parts = plan.parts.map((p) => this.#host.execute(p.command, p.args, opts, route));
        return Promise.all(parts).then((replies) => mergeSplit(plan, replies));
      }
    } else if (mayFanOut(lower)) {
      const flat = normalize(lower, args);
      const fan = fanOutPolicy(lower, flat);
      if (fan !== undefined) return this.#fanOut(lower, flat, opts, fan.targets, fan.reduce);
    }
    // The caller's spelling: errors (UnknownCommandError) name the command as written.
    return this.#host.execute(name, args, opts, route);
  }

  async #fanOut(name: string, args: readonly unknown[], opts: ExecOptions, which: 'masters' | 'all', reduce: Parameters<typeof reduceOutcomes>[0]): Promise<unknown> {
    await this.#host.ready();
    const nodes = this.#host.targets(which);
    // No map yet (or an empty one): one node answers, as for any keyless command.
    if (nodes.length === 0) return this.#host.execute(name, args, opts, FREE_ROUTE);
    const outcomes = await Promise.all(
      nodes.map((node) => this.#host.execute(name, args, opts, { node }).then(
        (value): Outcome => ({ ok: true, value }),
        (error: Error): Outcome => ({ ok: false, error }),
      )),
    );
    return reduceOutcomes(reduce, outcomes);
  }
}

/** Arguments as the executor will send them: flattened, MSET objects expanded, numbers as strings. */
function normalize(name: string, args: readonly unknown[]): readonly unknown[] {
  return new Command(name, args as (string | Buffer | number)[]).args;
}
