import type { ChainableCommander } from 'ioredis';
import type { ExecOptions } from '../router/request.js';
import type { SlotSequencer } from '../router/sequencer.js';
import { CommandQueue, type ExecResult, type QueuedCommand } from './command-queue.js';

/** What a pipeline needs from the client. */
export interface PipelineHost {
  /** Resolves once the first topology is known. */
  ready(): Promise<void>;
  sequencer(): SlotSequencer;
  /** The client's dispatch (split/fan-out/route) with a group sequencer. */
  send(name: string, args: readonly unknown[], opts: ExecOptions, sequencer: SlotSequencer): Promise<unknown>;
}

/** Typed chainable command methods, as on an ioredis pipeline. */
export interface Pipeline extends Omit<ChainableCommander, 'exec' | 'length' | 'call' | 'callBuffer'> {}

/**
 * A batch of commands for any keys, across nodes: `exec()` sends every entry
 * through the router at once (one socket write per node), retries only the
 * entries redirected (MOVED/ASK/TRYAGAIN) or hit by a retryable failure, and
 * resolves `[error, result][]` in the caller's order. Multi-key entries are
 * split per slot like single commands.
 *
 * Ordering: within one slot, every attempt of the entries is written in the
 * caller's order (a retried entry never overtakes an earlier entry of its
 * slot). Entries of different slots are independent. Not atomic: use
 * `multi()` for that. Exactly what is guaranteed: docs/03-multi-key.md#pipelines.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class Pipeline extends CommandQueue {
  readonly #host: PipelineHost;

  constructor(host: PipelineHost, batch?: readonly (readonly unknown[])[]) {
    super('pipeline', batch);
    this.#host = host;
  }

  protected async run(commands: readonly QueuedCommand[]): Promise<ExecResult> {
    if (commands.length === 0) return [];
    // With the map known, every first attempt is written in this same tick, in order.
    await this.#host.ready();
    const seq = this.#host.sequencer();
    const pending = commands.map((c) => this.#host.send(c.name, c.args, c.buffer ? { buffer: true } : {}, seq));
    const settled = await Promise.allSettled(pending);
    return settled.map((s) => (s.status === 'fulfilled' ? [null, s.value] : [s.reason as Error, null]));
  }
}
