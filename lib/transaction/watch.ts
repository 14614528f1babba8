import { list as commandNames } from '@ioredis/commands';
import { Command, type RedisCommander } from 'ioredis';
import { assertCommand } from '../core/arguments.js';
import {
  ConnectionError,
  CrossSlotError,
  InvalidArgumentError,
  TopologyError,
  UnknownCommandError,
  WatchConflictError,
} from '../errors.js';
import type { NodeHandle } from '../node/node-handle.js';
import type { DedicatedConnection } from '../node/pool.js';
import { describe } from '../core/describe.js';
import type { ExecResult } from '../pipeline/command-queue.js';
import { CONNECTION_BOUND_WAITS } from '../router/blocking.js';
import { commandInfo, keyIndexes } from '../router/commands.js';
import { slotOf } from '../core/slots.js';
import { execOn, type Prepared } from './exec.js';
import type { Router } from '../router/router.js';
import { Attempts, execFailure } from './run.js';
import { Transaction } from './transaction.js';

/** Options of `client.watch()`. */
export interface WatchOptions {
  /**
   * Run the callback again (with a fresh WATCH) this many times when its
   * transaction is aborted by a conflict (WatchConflictError).
   * @default 0
   */
  retries?: number;
}

type Omitted = 'watch' | 'unwatch' | 'exec' | 'discard' | 'call' | 'callBuffer' | 'quit' | 'monitor';

/** Typed commands on the WATCHing connection, as on an ioredis client. */
export interface WatchContext extends Omit<RedisCommander<{ type: 'default' }>, Omitted> {}

/**
 * The callback's view of a WATCH: commands run on the one dedicated
 * connection holding the WATCH (keys must be in the watched slot), and
 * `multi()` queues the transaction that EXECs there.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class WatchContext {
  /** The slot of the watched keys. */
  readonly slot: number;
  /** The dedicated connection holding the WATCH (for diagnostics; commands go through the methods). */
  readonly connection: DedicatedConnection;
  readonly #node: NodeHandle;
  readonly #router: Router;
  #watching = true;
  #broken = false;
  #executed = false;

  constructor(conn: DedicatedConnection, node: NodeHandle, slot: number, router: Router) {
    this.connection = conn;
    this.#node = node;
    this.slot = slot;
    this.#router = router;
  }

  /** Runs any command on the watching connection. */
  call(name: string, ...args: unknown[]): Promise<unknown> {
    return this.#run(name, args, false);
  }

  /** `call()` with the reply as Buffers. */
  callBuffer(name: string, ...args: unknown[]): Promise<unknown> {
    return this.#run(name, args, true);
  }

  /** The transaction that EXECs on this connection, guarded by the WATCH. */
  multi(commands?: readonly (readonly unknown[])[]): Transaction {
    return new Transaction((prepared) => this.#exec(prepared), commands);
  }

  #run(name: string, args: unknown[], buffer: boolean): Promise<unknown> {
    const last = args[args.length - 1];
    if (typeof last !== 'function') return this.#send(name, args, buffer);
    const cb = args.pop() as (err: Error | null, v?: unknown) => void;
    const p = this.#send(name, args, buffer);
    p.then((v) => cb(null, v), (e: Error) => cb(e));
    return p;
  }

  async #send(name: string, args: unknown[], buffer: boolean): Promise<unknown> {
    assertCommand(name, args);
    const lower = name.toLowerCase();
    const info = commandInfo(lower);
    if (info === undefined) throw new UnknownCommandError(name);
    if (info.pinsConnection || CONNECTION_BOUND_WAITS.has(lower)) {
      throw new InvalidArgumentError(`command ${lower.toUpperCase()}`, 'inside watch(), use tx.multi() for the transaction; the WATCH is already held');
    }
    // As the connection will send them (flattened, objects expanded, numbers as ioredis writes them): the slot check hashes the same bytes.
    const flat = new Command(lower, args as (string | Buffer | number)[]).args;
    for (const i of keyIndexes(lower, flat)) {
      if (i < flat.length && slotOf(flat[i] as string | Buffer) !== this.slot) throw this.#crossSlot(lower, slotOf(flat[i] as string | Buffer));
    }
    try {
      return await this.connection.send(lower, flat, buffer);
    } catch (err) {
      throw this.#fail(err, lower);
    }
  }

  async #exec(prepared: Prepared): Promise<ExecResult> {
    if (this.#executed) throw new InvalidArgumentError('transaction', 'a watch() callback runs at most one transaction; call client.watch() again');
    if (prepared.slot !== undefined && prepared.slot !== this.slot) throw this.#crossSlot('exec', prepared.slot);
    this.#executed = true;
    if (prepared.commands.length === 0) return [];
    const out = await execOn(this.connection, prepared, false);
    this.#watching = false;
    if (out.kind === 'ok') return out.results;
    const ctx = { address: this.#node.address, slot: this.slot, command: 'EXEC' };
    if (out.kind === 'aborted') throw new WatchConflictError('A watched key changed before EXEC; the transaction was not applied', ctx);
    const { c } = this.#router.learn(out.error, this.#node, this.slot);
    if (c.kind === 'connection') {
      this.#broken = true;
      throw execFailure(out, c, this.#node, this.slot);
    }
    if (c.kind === 'moved' || c.kind === 'ask' || c.kind === 'wait') {
      throw new WatchConflictError(`The watched slot ${this.slot} moved or is migrating (${c.kind}); the transaction was not applied`, { ...ctx, cause: out.error });
    }
    throw execFailure(out, c, this.#node, this.slot);
  }

  /** Maps an error of a command on the watching connection. */
  #fail(err: unknown, name: string): unknown {
    const { c } = this.#router.learn(err, this.#node, this.slot);
    if (c.kind === 'connection') {
      this.#broken = true;
      return new ConnectionError(`Connection to ${this.#node.address} lost during watch(); the WATCH is gone, nothing was applied`, {
        address: this.#node.address, slot: this.slot, command: name.toUpperCase(), cause: c.error, maybeSent: c.maybeSent,
      });
    }
    // Same rule as at EXEC: a slot that moved or is mid-migration (TRYAGAIN, CLUSTERDOWN, LOADING) is a conflict, not a raw reply.
    if (c.kind === 'moved' || c.kind === 'ask' || c.kind === 'wait') {
      return new WatchConflictError(`The watched slot ${this.slot} moved or is migrating (${c.kind}); the WATCH no longer guards it`, {
        address: this.#node.address, slot: this.slot, command: name.toUpperCase(), cause: err,
      });
    }
    return 'error' in c ? c.error : err;
  }

  #crossSlot(name: string, slot: number): CrossSlotError {
    return new CrossSlotError(
      `${name.toUpperCase()} uses a key of slot ${slot}, but watch() holds slot ${this.slot}: inside watch() every key must share the watched keys' slot (use a hash tag)`,
      [this.slot, slot],
      { command: name.toUpperCase() },
    );
  }

  /** @internal Ends the WATCH and gives the connection back (closes it when its state is unknown). */
  async close(broken: boolean): Promise<void> {
    if (!broken && !this.#broken && this.#watching) {
      try {
        await this.connection.send('unwatch', []);
      } catch {
        this.#broken = true;
      }
    }
    await (broken || this.#broken ? this.connection.destroy() : this.connection.release());
  }

  static {
    const proto = this.prototype as unknown as Record<string, unknown>;
    for (const name of commandNames) {
      if (name in proto) continue;
      proto[name] = function (this: WatchContext, ...args: unknown[]) {
        return this.call(name, ...args);
      };
      proto[`${name}Buffer`] = function (this: WatchContext, ...args: unknown[]) {
        return this.callBuffer(name, ...args);
      };
    }
  }
}

/**
 * WATCH `keys` on a dedicated connection to their slot's master, run `fn`
 * (reads and `tx.multi()…exec()` on that connection), then give the
 * connection back. See ClusterClient.watch.
 */
export async function runWatch<T>(
  router: Router,
  keys: readonly (string | Buffer)[],
  fn: (tx: WatchContext) => Promise<T>,
  opts: WatchOptions = {},
): Promise<T> {
  assertCommand('watch', keys);
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === 'string' || Buffer.isBuffer(k))) {
    throw new InvalidArgumentError('watch keys', `expected a non-empty array of string or Buffer keys, got ${describe(keys)}`);
  }
  if (typeof fn !== 'function') throw new InvalidArgumentError('watch callback', `expected an async function (tx) => …, got ${describe(fn)}`);
  const retries = opts?.retries ?? 0;
  if (!Number.isInteger(retries) || retries < 0) throw new InvalidArgumentError('retries', `expected an integer ≥ 0, got ${describe(retries)}`);
  const slots = [...new Set(keys.map((k) => slotOf(k)))];
  if (slots.length > 1) {
    throw new CrossSlotError(`WATCH keys hash to ${slots.length} different slots (${slots.slice(0, 5).join(', ')}); watched keys must share a slot: use a hash tag`, slots, { command: 'WATCH' });
  }
  for (let attempt = 0; ; attempt++) {
    try {
      return await watchOnce(router, keys, slots[0]!, fn);
    } catch (err) {
      if (!(err instanceof WatchConflictError) || attempt >= retries) throw err;
    }
  }
}

async function watchOnce<T>(router: Router, keys: readonly (string | Buffer)[], slot: number, fn: (tx: WatchContext) => Promise<T>): Promise<T> {
  await router.ready();
  const tries = new Attempts(router);
  let target: NodeHandle | undefined;
  for (;;) {
    tries.check('WATCH', slot);
    let node: NodeHandle;
    let conn: DedicatedConnection;
    try {
      node = target ?? router.masterOf(slot);
      conn = await router.acquire(node);
    } catch (err) {
      if (!(err instanceof ConnectionError) && !(err instanceof TopologyError)) throw err;
      tries.last = err;
      target = undefined;
      await tries.backoff();
      continue;
    }
    target = undefined;
    try {
      await conn.send('watch', keys);
    } catch (err) {
      // Nothing ran yet: follow a MOVED, wait out a migration or an outage, then WATCH again.
      const { c, target: to } = router.learn(err, node, slot);
      await (c.kind === 'connection' ? conn.destroy() : conn.release());
      if (c.kind === 'final' || c.kind === 'breaker') throw c.error;
      tries.last = err;
      if (c.kind === 'moved') {
        tries.redirected('WATCH', slot, err);
        target = to;
      } else await tries.backoff();
      continue;
    }
    const tx = new WatchContext(conn, node, slot, router);
    let broken = false;
    try {
      return await fn(tx);
    } catch (err) {
      broken = err instanceof ConnectionError;
      throw err;
    } finally {
      await tx.close(broken);
    }
  }
}
