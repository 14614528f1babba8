import { flatArgs } from '../node/outgoing.js';
import { commandProblem, execOptionsProblem } from '../core/arguments.js';
import { InvalidArgumentError } from '../errors.js';
import type { Executor } from './executor.js';
import { fanOutPolicy, mayFanOut, reduceOutcomes, type Outcome } from './fanout.js';
import type { ExecOptions, RequestSequencer, RouteOptions } from './request.js';
import type { Router } from './router.js';
import { isSplittable, mergeSplit, planSplit, splitArgumentProblem } from './split.js';

/** The route of a request that is neither pinned nor sequenced (shared: no object per command). */
const FREE_ROUTE: RouteOptions = Object.freeze({});
const NO_OPTIONS: ExecOptions = Object.freeze({});

/**
 * The step before the executor: a multi-key command whose keys span slots
 * becomes one request per slot (merged in the caller's order), a keyless
 * command Redis marks all_shards/all_nodes becomes one request per node
 * (replies aggregated), anything else is one request. Every part goes
 * through the executor, so each has the full routing guarantees (MOVED/ASK,
 * waits, one deadline, no unsafe re-send).
 */
export class Splitter {
  readonly #executor: Executor;
  readonly #router: Pick<Router, 'ready' | 'nodes'>;

  constructor(executor: Executor, router: Pick<Router, 'ready' | 'nodes'>) {
    this.#executor = executor;
    this.#router = router;
  }

  /** Runs one caller command; `sequencer` places its parts in a pipeline's per-slot order. */
  run(name: string, args: readonly unknown[], opts: ExecOptions = NO_OPTIONS, sequencer?: RequestSequencer): Promise<unknown> {
    const bad = commandProblem(name, args) ?? (opts === NO_OPTIONS ? undefined : execOptionsProblem(opts));
    if (bad !== undefined) return Promise.reject(bad);
    const lower = name.toLowerCase();
    const route: RouteOptions = sequencer === undefined ? FREE_ROUTE : { sequencer };
    if (isSplittable(lower)) {
      const flat = normalize(lower, args);
      const problem = splitArgumentProblem(lower, flat);
      if (problem !== undefined) return Promise.reject(new InvalidArgumentError(`${lower.toUpperCase()} arguments`, problem, { command: lower.toUpperCase() }));
      const plan = planSplit(lower, flat);
      if (typeof plan === 'number') return this.#executor.execute(name, flat, opts, sequencer === undefined ? { slot: plan } : { sequencer, slot: plan });
      if (plan !== undefined) {
        const parts = plan.parts.map((p) => this.#executor.execute(p.command, p.args, opts, route));
        return Promise.all(parts).then((replies) => mergeSplit(plan, replies));
      }
      return this.#executor.execute(name, flat, opts, route);
    } else if (mayFanOut(lower)) {
      const flat = normalize(lower, args);
      const fan = fanOutPolicy(lower, flat);
      if (fan !== undefined) return this.#fanOut(lower, flat, opts, fan.targets, fan.reduce);
    }
    // The caller's spelling: errors (UnknownCommandError) name the command as written.
    return this.#executor.execute(name, args, opts, route);
  }

  async #fanOut(name: string, args: readonly unknown[], opts: ExecOptions, which: 'masters' | 'all', reduce: Parameters<typeof reduceOutcomes>[0]): Promise<unknown> {
    await this.#router.ready();
    const nodes = this.#router.nodes(which === 'masters' ? 'master' : 'all', true);
    // No map yet (or an empty one): one node answers, as for any keyless command.
    if (nodes.length === 0) return this.#executor.execute(name, args, opts, FREE_ROUTE);
    const outcomes = await Promise.all(
      nodes.map((node) => this.#executor.execute(name, args, opts, { node }).then(
        (value): Outcome => ({ ok: true, value }),
        (error: Error): Outcome => ({ ok: false, error }),
      )),
    );
    return reduceOutcomes(reduce, outcomes);
  }
}

/** Arguments as the executor will send them: flattened, MSET objects expanded, numbers as strings. */
function normalize(name: string, args: readonly unknown[]): readonly unknown[] {
  // Already flat strings and Buffers (the usual MGET/DEL call): nothing to convert.
  let flat = true;
  for (let i = 0; i < args.length && flat; i++) flat = typeof args[i] === 'string' || Buffer.isBuffer(args[i]);
  return flat ? args : flatArgs(name, args);
}
