import { installCommandMethods } from './command-methods.js';
import { InvalidArgumentError } from '../errors.js';
import { describe } from '../core/describe.js';

/** A per-command callback, ioredis style. */
export type Callback = (err: Error | null, result?: unknown) => void;

/** One queued command. */
export interface QueuedCommand {
  /** Lower-case command name. */
  readonly name: string;
  readonly args: readonly unknown[];
  /** Reply as Buffers (the `xxxBuffer` method or `callBuffer`). */
  readonly buffer: boolean;
  readonly callback: Callback | undefined;
}

/** `[error, result]` per command, in the caller's order (ioredis shape). */
export type ExecResult = [error: Error | null, result: unknown][];

/**
 * Commands queued by chained method calls (`.set('a', 1).get('b')`), the
 * ioredis pipeline/transaction builder shape: a method per Redis command and
 * its `xxxBuffer` variant, plus `call`, `callBuffer`, `addBatch`, `length`,
 * `exec(callback?)`. Subclasses decide how the queued commands run
 * (`run()`); `exec()` seals the queue.
 */
export abstract class CommandQueue {
  readonly #queue: QueuedCommand[] = [];
  #sealed = false;
  readonly #kind: string;

  /** `kind` names the builder in errors ('pipeline', 'transaction'). */
  protected constructor(kind: string, batch?: readonly (readonly unknown[])[]) {
    this.#kind = kind;
    if (batch !== undefined) this.addBatch(batch);
  }

  /** Number of queued commands. */
  get length(): number {
    return this.#queue.length;
  }

  /** Queues any command by name: `.call('OBJECT', 'ENCODING', 'k')`. */
  call(name: string, ...args: unknown[]): this {
    return this.#push(name, args, false);
  }

  /** Like `call()`, with a Buffer reply. */
  callBuffer(name: string, ...args: unknown[]): this {
    return this.#push(name, args, true);
  }

  /** Queues `[['set', 'a', '1'], ['get', 'a']]`. */
  addBatch(commands: readonly (readonly unknown[])[]): this {
    if (!Array.isArray(commands)) throw new InvalidArgumentError(`${this.#kind} commands`, `expected an array of [name, ...args] arrays, got ${describe(commands)}`);
    commands.forEach((c, i) => {
      if (!Array.isArray(c) || typeof c[0] !== 'string') {
        throw new InvalidArgumentError(`${this.#kind} commands[${i}]`, `expected [name, ...args], got ${describe(c)}`);
      }
      this.#push(c[0], c.slice(1), false);
    });
    return this;
  }

  /** Sends the queued commands; resolves `[error, result]` per command, in order. Runs once. */
  exec(callback?: (err: Error | null, results?: ExecResult) => void): Promise<ExecResult> {
    const p = this.#exec();
    if (callback) p.then((r) => callback(null, r), (e: Error) => callback(e));
    return p;
  }

  /** Runs the commands `exec()` took from the queue. */
  protected abstract run(commands: readonly QueuedCommand[]): Promise<ExecResult>;

  async #exec(): Promise<ExecResult> {
    if (this.#sealed) throw new InvalidArgumentError(this.#kind, 'exec() was already called on it; build a new one');
    this.#sealed = true;
    const commands = this.#queue.splice(0);
    const results = await this.run(commands);
    notifyCallbacks(commands, results);
    return results;
  }

  #push(name: string, args: unknown[], buffer: boolean): this {
    if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError('command name', `expected a non-empty string, got ${describe(name)}`);
    if (this.#sealed) throw new InvalidArgumentError(this.#kind, `exec() was already called on it; ${name.toUpperCase()} cannot be added`);
    const last = args[args.length - 1];
    const callback = typeof last === 'function' ? (args.pop() as Callback) : undefined;
    this.#queue.push({ name: name.toLowerCase(), args, buffer, callback });
    return this;
  }

  static {
    installCommandMethods<CommandQueue>(this.prototype, (self, name, args, buffer) => self.#push(name, args, buffer));
  }
}

/** Calls each command's callback with its outcome (errors in callbacks are not ours to catch). */
function notifyCallbacks(commands: readonly QueuedCommand[], results: ExecResult): void {
  commands.forEach((c, i) => {
    const [err, value] = results[i]!;
    if (c.callback) queueMicrotask(() => c.callback!(err, err ? undefined : value));
  });
}
