import type { ChainableCommander } from 'ioredis';
import { CommandQueue, type ExecResult, type QueuedCommand } from '../pipeline/command-queue.js';
import { prepare, type Prepared } from './exec.js';

/** Typed chainable command methods, as on an ioredis `multi()`. */
export interface Transaction extends Omit<ChainableCommander, 'exec' | 'length' | 'call' | 'callBuffer'> {}

/**
 * MULTI … EXEC for keys in one slot, on a dedicated pooled connection to the
 * slot's master. Every key is checked before anything is sent (keys in
 * different slots → CrossSlotError). `exec()` resolves `[error, result]`
 * per command — an error there is a command that failed inside EXEC (e.g.
 * WRONGTYPE), the others were applied, as in Redis.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class Transaction extends CommandQueue {
  readonly #send: (prepared: Prepared) => Promise<ExecResult>;

  /** `run` sends the prepared transaction (un-WATCHed, or inside a watch() callback). */
  constructor(run: (prepared: Prepared) => Promise<ExecResult>, batch?: readonly (readonly unknown[])[]) {
    super('transaction', batch);
    this.#send = run;
  }

  /** Checks every command, then sends and runs the transaction. */
  protected run(commands: readonly QueuedCommand[]): Promise<ExecResult> {
    return this.#send(prepare(commands));
  }
}
