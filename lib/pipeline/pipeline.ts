import type { ChainableCommander } from 'ioredis';
import type { Router } from '../router/router.js';
import { CommandQueue, type ExecResult, type QueuedCommand } from './command-queue.js';

const UTF8_REPLY = Object.freeze({});
const BUFFER_REPLY = Object.freeze({ buffer: true });

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
  readonly #router: Router;

  /** @internal Use `client.pipeline()`. */
  constructor(router: Router, batch?: readonly (readonly unknown[])[]) {
    super('pipeline', batch);
    this.#router = router;
  }

  protected async run(commands: readonly QueuedCommand[]): Promise<ExecResult> {
    if (commands.length === 0) return [];
    return this.#router.traceBatch('pipeline', commands.length, () => this.#send(commands));
  }

  async #send(commands: readonly QueuedCommand[]): Promise<ExecResult> {
    // With the map known, every first attempt is written in this same tick, in order.
    await this.#router.ready();
    const sequencer = this.#router.sequencer();
    const route = { sequencer };
    const pending = commands.map((c) => this.#router.execute(c.name, c.args, c.buffer ? BUFFER_REPLY : UTF8_REPLY, route));
    const settled = await Promise.allSettled(pending);
    return settled.map((s) => (s.status === 'fulfilled' ? [null, s.value] : [s.reason as Error, null]));
  }
}
