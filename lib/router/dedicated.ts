import { InvalidArgumentError, TopologyError } from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import type { NodeHandle } from '../node/node-handle.js';
import type { DedicatedConnection } from '../node/pool.js';
import type { NodeRegistry } from '../node/registry.js';
import type { Topology } from '../topology/topology.js';
import { classify, type Classified } from '../core/classify.js';
import { SLOT_COUNT } from '../core/slots.js';

/**
 * Dedicated (pooled) connections to the master of a slot, for what must
 * share one connection: transactions, WATCH, a write and its WAIT. The
 * caller runs the commands; this routes the borrow and learns from errors
 * (a MOVED patches the map, other routing trouble schedules a refresh).
 */
export class DedicatedRouter {
  readonly #topology: Topology;
  readonly #nodes: NodeRegistry;
  readonly options: ResolvedOptions;

  constructor(deps: { topology: Topology; nodes: NodeRegistry; options: ResolvedOptions }) {
    this.#topology = deps.topology;
    this.#nodes = deps.nodes;
    this.options = deps.options;
  }

  /** Throws InvalidArgumentError unless `slot` is a hash slot. */
  static checkSlot(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= SLOT_COUNT) {
      throw new InvalidArgumentError('slot', `expected an integer from 0 to ${SLOT_COUNT - 1}, got ${String(slot)}`);
    }
  }

  /** The master serving `slot` in the current map; TopologyError (and a refresh) when none does. */
  masterOf(slot: number): NodeHandle {
    const shard = this.#topology.current?.shardOf(slot);
    if (!shard) {
      this.#topology.requestRefresh('uncovered');
      throw new TopologyError(`No master serves slot ${slot} right now`, {}, { slot });
    }
    const m = shard.master;
    return this.#nodes.getOrCreate(m.address, m.host, m.port, 'master');
  }

  /** Borrows a connection to `node` (PoolError when its pool stays exhausted). */
  acquire(node: NodeHandle): Promise<DedicatedConnection> {
    return node.pool.acquire();
  }

  /**
   * Classifies an error of a command run on a dedicated connection to `node`
   * and updates the map from it. For MOVED/ASK, `target` is the node named.
   */
  learn(err: unknown, node: NodeHandle, slot: number | undefined): { c: Classified; target?: NodeHandle } {
    const c = classify(err, { address: node.address, ...(slot === undefined ? {} : { slot }) });
    if (c.kind === 'moved' || c.kind === 'ask') {
      const to = this.#topology.followRedirect(c.kind, c.slot, c.host, c.port, node.host);
      return { c, target: this.#nodes.getOrCreate(to.address, to.host, to.port, 'master') };
    }
    if (c.kind !== 'final') this.#topology.requestRefresh('dedicated-connection');
    return { c };
  }
}
