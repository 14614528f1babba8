import { installCommandMethods } from '../pipeline/command-methods.js';
import type { ChainableCommander } from 'ioredis';
import { InvalidArgumentError, RedisReplyError } from '../errors.js';
import { describe } from '../core/describe.js';
import type { Pipeline, Transaction } from '../index.js';
import { splitCall, type DefinedCommand } from '../scripts/define-command.js';
import { prefixArgs, prefixKey } from './prefix.js';

type Callback = (err: Error | null, result?: unknown) => void;

/** ioredis' exec() result: `[null, result]` per command, `[error]` for a failed one. */
export type BatchResult = ([error: null, result: unknown] | [error: Error])[];

/** What a batch needs from its Cluster. */
export interface BatchHost {
  readonly keyPrefix: string | undefined;
  /** Defined commands by method name (`name` and `nameBuffer`). */
  readonly defined: ReadonlyMap<string, { readonly cmd: DefinedCommand; readonly buffer: boolean }>;
  /** A slotwise pipeline or transaction to run the batch on. */
  open(kind: 'pipeline' | 'multi'): Pipeline | Transaction;
  /** SCRIPT LOAD of a defined command's script on every node (once per Cluster). */
  load(cmd: DefinedCommand): Promise<unknown>;
  /** Runs a defined command's script (EVALSHA, NOSCRIPT → EVAL) with already prefixed keys. */
  runScript(cmd: DefinedCommand, keys: unknown[], args: unknown[], buffer: boolean): Promise<unknown>;
}

interface Entry {
  readonly name: string;
  readonly args: unknown[];
  readonly buffer: boolean;
  readonly callback: Callback | undefined;
  /** For a defined command: its script, keys and ARGV. */
  readonly script?: { readonly cmd: DefinedCommand; readonly keys: unknown[]; readonly argv: unknown[] };
}

/** Typed chainable command methods, as on ioredis' pipeline and multi. */
export interface IoredisBatch extends Omit<ChainableCommander, 'exec' | 'length' | 'call' | 'callBuffer' | 'multi'> {}

/**
 * ioredis' Pipeline / multi() builder over slotwise's: keys prefixed with
 * keyPrefix, defined commands (EVALSHA) queued like others, per-command
 * callbacks, and `exec()` resolving ioredis' shapes. A pipeline runs on
 * slotwise's cross-node Pipeline (keys of any slots, results in order); a
 * multi on its one-slot Transaction.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class IoredisBatch {
  readonly #host: BatchHost;
  readonly #kind: 'pipeline' | 'multi';
  readonly #queue: Entry[] = [];
  #sealed = false;

  /** @internal Use `cluster.pipeline()` / `cluster.multi()`. */
  constructor(host: BatchHost, kind: 'pipeline' | 'multi', batch?: readonly (readonly unknown[])[]) {
    this.#host = host;
    this.#kind = kind;
    for (const method of host.defined.keys()) {
      Object.defineProperty(this, method, { value: (...args: unknown[]) => this.#push(method, args, false), enumerable: false });
    }
    if (batch !== undefined) {
      if (!Array.isArray(batch)) throw new InvalidArgumentError(`${kind} commands`, `expected an array of [name, ...args] arrays, got ${describe(batch)}`);
      batch.forEach((c, i) => {
        if (!Array.isArray(c) || typeof c[0] !== 'string') throw new InvalidArgumentError(`${kind} commands[${i}]`, `expected [name, ...args], got ${describe(c)}`);
        this.#push(c[0], c.slice(1), false);
      });
    }
  }

  /** Number of queued commands. */
  get length(): number {
    return this.#queue.length;
  }

  /** Queues any command by name; a trailing function argument is its callback. */
  call(name: string, ...args: unknown[]): this {
    return this.#push(name, args, false);
  }

  /** As call, string replies as Buffers. */
  callBuffer(name: string, ...args: unknown[]): this {
    return this.#push(name, args, true);
  }

  /** Inline transactions inside a pipeline are not supported: use `cluster.multi()`. */
  multi(): never {
    throw new InvalidArgumentError('pipeline().multi()', 'inline transactions inside a pipeline are not supported; use cluster.multi() (keys of one slot)');
  }

  /** Sends the queued commands; resolves `[null, result]` or `[error]` per command, in order. */
  exec(callback?: (err: Error | null, results?: BatchResult | null) => void): Promise<BatchResult | null> {
    const p = this.#exec();
    if (callback) p.then((r) => callback(null, r), (e: Error) => callback(e));
    return p;
  }

  async #exec(): Promise<BatchResult | null> {
    if (this.#sealed) throw new InvalidArgumentError(this.#kind, 'exec() was already called on it; build a new one');
    this.#sealed = true;
    const entries = this.#queue.splice(0);
    const host = this.#host;
    const scripts = [...new Set(entries.flatMap((e) => (e.script ? [e.script.cmd] : [])))];
    // Inside MULTI a NOSCRIPT cannot be answered with EVAL: load first (once per Cluster).
    if (this.#kind === 'multi' && scripts.length > 0) await Promise.all(scripts.map((s) => host.load(s)));
    const target = host.open(this.#kind);
    for (const e of entries) {
      if (e.script) {
        const { cmd, keys, argv } = e.script;
        const s = cmd.script;
        const args = [s.readOnly ? 'evalsha_ro' : 'evalsha', s.sha, keys.length, ...keys, ...argv] as const;
        if (e.buffer) target.callBuffer(...args);
        else target.call(...args);
      } else if (e.buffer) {
        target.callBuffer(e.name, ...e.args);
      } else {
        target.call(e.name, ...e.args);
      }
    }
    const raw = await target.exec();
    if (raw === null) return null;
    const results: BatchResult = await Promise.all(raw.map(async ([err, value], i) => {
      const e = entries[i]!;
      if (err && e.script && this.#kind === 'pipeline' && err instanceof RedisReplyError && err.prefix === 'NOSCRIPT') {
        try {
          return [null, await host.runScript(e.script.cmd, e.script.keys, e.script.argv, e.buffer)] as [null, unknown];
        } catch (retryErr) {
          return [retryErr as Error] as [Error];
        }
      }
      return err ? ([err] as [Error]) : ([null, value] as [null, unknown]);
    }));
    entries.forEach((e, i) => {
      const r = results[i]!;
      if (!e.callback) return;
      const cb = e.callback;
      // ioredis passes the queueing state to a multi()'s per-command callbacks.
      if (this.#kind === 'multi') queueMicrotask(() => cb(null, 'QUEUED'));
      else queueMicrotask(() => (r[0] ? cb(r[0]) : cb(null, r[1])));
    });
    return results;
  }

  #push(name: string, input: unknown[], buffer: boolean): this {
    if (this.#sealed) throw new InvalidArgumentError(this.#kind, `exec() was already called on it; ${String(name).toUpperCase()} cannot be added`);
    if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError('command name', `expected a non-empty string, got ${describe(name)}`);
    const host = this.#host;
    const defined = host.defined.get(name);
    if (defined) {
      const { keys, args, callback } = splitCall(name, defined.cmd.numberOfKeys, input);
      const prefix = host.keyPrefix;
      const pk = prefix === undefined ? keys : keys.map((k) => prefixKey(k, prefix));
      this.#queue.push({ name, args: [], buffer: defined.buffer, callback, script: { cmd: defined.cmd, keys: pk, argv: args } });
      return this;
    }
    const callback = typeof input[input.length - 1] === 'function' ? (input.pop() as Callback) : undefined;
    const args = host.keyPrefix === undefined ? input : prefixArgs(name, input, host.keyPrefix);
    this.#queue.push({ name: name.toLowerCase(), args, buffer, callback });
    return this;
  }

  static {
    installCommandMethods<IoredisBatch>(this.prototype, (self, name, args, buffer) => self.#push(name, args, buffer));
  }
}
