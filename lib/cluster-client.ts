import { EventEmitter } from 'node:events';
import { list as commandNames } from '@ioredis/commands';
import type { RedisCommander } from 'ioredis';
import { ClientClosedError, InvalidArgumentError } from './errors.js';
import { trackClient, untrackClient } from './internal/open-clients.js';
import type { ClusterClientEvents } from './client-events.js';
import { ClusterOps, type NodeRoleFilter } from './cluster-ops.js';
import { Pipeline } from './pipeline/pipeline.js';
import { runTransaction } from './transaction/run.js';
import { Transaction } from './transaction/transaction.js';
import { runWatch, type WatchContext, type WatchOptions } from './transaction/watch.js';
import type { ClusterClientOptions, ResolvedOptions } from './options.js';
import { ClientCore, type ClientStatus } from './client-core.js';
import type { NodeHandle } from './node/node-handle.js';
import type { ExecOptions } from './router/request.js';
import { checkSlot, slotOf } from './core/slots.js';
import type { DedicatedConnection } from './node/pool.js';
import type { ScanIterator, ScanOptions } from './scan/scan-iterator.js';
import { PubSub } from './pubsub/pubsub.js';
import type { MessageIterator, IteratorOptions, Subscription } from './pubsub/subscription.js';
import type { KeyspaceEvent, KeyspaceEventsOptions } from './pubsub/keyspace.js';
import type { MessageHandler } from './pubsub/types.js';
import { Script, type ScriptDefinition } from './scripts/script.js';
import { checkDefinition, installCommand, type CommandDefinition } from './scripts/define-command.js';
import type { TopologySnapshot } from './topology/snapshot.js';
import type { ClientStats } from './telemetry/stats.js';
import type { CacheStats } from './cache/store.js';

export type { ClientStatus } from './client-core.js';

/**
 * Command methods the client defines itself, or that make no sense on a
 * cluster facade (EXEC/DISCARD/UNWATCH belong to multi() and watch()).
 */
type Overridden = 'quit' | 'call' | 'callBuffer' | 'monitor' | 'subscribe' | 'psubscribe' | 'ssubscribe' | 'watch' | 'exec' | 'discard' | 'unwatch';

/** Typed Redis command methods, as on an ioredis client. */
export interface ClusterClient extends Omit<RedisCommander<{ type: 'default' }>, Overridden> {}

type Callback = (err: Error | null, result?: unknown) => void;

// Shared per-call settings of the typed command methods: no object per command.
const UTF8_REPLY: ExecOptions = Object.freeze({});
const BUFFER_REPLY: ExecOptions = Object.freeze({ buffer: true });

/**
 * A Redis Cluster client: every command routed by key slot to the node that
 * owns it, surviving reshards (MOVED/ASK), failovers and node loss within one
 * deadline per command. See docs/02-routing.md.
 *
 * Multi-key commands — MGET, MSET, DEL, UNLINK, EXISTS, TOUCH (and their
 * Buffer forms, `call()`, `send()`) — take keys of any slots: they are split
 * per slot, the parts run in parallel (each with every routing guarantee),
 * and the replies are merged in the caller's order (MGET) or summed (DEL,
 * UNLINK, EXISTS, TOUCH). A split command is NOT atomic: other clients may
 * see a cross-slot MSET half done, and if one part fails the others may
 * already be applied (the call rejects with that part's error). Keys sharing
 * a slot (a `{hash tag}`) are sent as one command and stay atomic.
 * All-or-nothing commands (MSETNX, …) are never split: their keys must share
 * a slot (CrossSlotError otherwise). See docs/03-multi-key.md.
 *
 * ```ts
 * const client = new ClusterClient({ rootNodes: ['127.0.0.1:7000'] });
 * await client.connect();
 * await client.set('k', 'v');
 * await client.quit();
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class ClusterClient extends EventEmitter<ClusterClientEvents> {
  /** The resolved options: frozen, except with a `config` source, whose live options change them in place. */
  readonly options: ResolvedOptions;
  readonly #core: ClientCore;
  readonly #ops: ClusterOps;
  #pubsub: PubSub | undefined;
  readonly #defined = new Set<string>();

  constructor(options: ClusterClientOptions) {
    super();
    // Core events go out through this emitter (typed at the core's side).
    const emit = (event: keyof ClusterClientEvents, ...args: unknown[]) => (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
    const core = new ClientCore(options, emit as ConstructorParameters<typeof ClientCore>[1], () => this.listenerCount('error') > 0);
    this.#core = core;
    this.options = core.options;
    this.#ops = new ClusterOps(core);
    trackClient(this);
  }

  /** Where the client is in its lifecycle. */
  get status(): ClientStatus {
    return this.#core.status;
  }

  /** The current topology snapshot (undefined before the first discovery). */
  get topology(): TopologySnapshot | undefined {
    return this.#core.current;
  }

  /**
   * Re-AUTHs every live connection with fresh credentials from
   * `credentialsProvider` (one call), or the static `username`/`password`:
   * each node's multiplexed connection (AUTH is pipelined behind commands
   * already written: none is dropped), idle pooled connections, and
   * subscriber connections (RESP3 only: RESP2 forbids AUTH in subscribed
   * mode). A borrowed pooled connection (inside MULTI, or blocked) is not
   * touched; it is closed when given back. New connections always ask the
   * provider themselves. Rejects with AuthError when a node refuses.
   */
  async reauthenticate(): Promise<void> {
    return this.#core.reauthenticate();
  }

  /**
   * Discovers the cluster (consensus of several nodes). Commands issued
   * before it completes wait (bounded by `maxWaitingCommands` and their
   * deadline). Rejects with TopologyError listing every node's last error.
   */
  connect(): Promise<void> {
    return this.#core.connect();
  }

  /** Runs any command by name: `client.call('OBJECT', 'ENCODING', 'k')`. */
  call(name: string, ...args: unknown[]): Promise<unknown> {
    return this.#run(name, args, false);
  }

  /** Like `call()`, replies as Buffers. */
  callBuffer(name: string, ...args: unknown[]): Promise<unknown> {
    return this.#run(name, args, true);
  }

  /**
   * Runs a command with per-call settings (reply encoding, deadline).
   * Multi-key commands (MGET, MSET, DEL, UNLINK, EXISTS, TOUCH) whose keys
   * span slots are split per slot and merged; keyless commands Redis marks
   * for all shards/nodes (DBSIZE, FLUSHALL, SCRIPT LOAD, …) fan out. See
   * docs/03-multi-key.md.
   */
  send(name: string, args: readonly unknown[], opts: ExecOptions = UTF8_REPLY): Promise<unknown> {
    if (this.#core.status === 'idle') this.#core.connect().catch(() => undefined);
    return this.#core.execute(name, args, opts);
  }

  #run(name: string, args: unknown[], buffer: boolean): Promise<unknown> {
    const opts = buffer ? BUFFER_REPLY : UTF8_REPLY;
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      const cb = args.pop() as Callback;
      const p = this.send(name, args, opts);
      p.then((v) => cb(null, v), (e: Error) => cb(e));
      return p;
    }
    return this.send(name, args, opts);
  }

  /**
   * A pipeline: commands for any keys, sent across nodes at once, results
   * `[error, result][]` in the caller's order; within a slot the caller's
   * order is kept. Not atomic. See docs/03-multi-key.md#pipelines.
   *
   * ```ts
   * const results = await client.pipeline().incr('a').get('b').exec();
   * ```
   */
  pipeline(commands?: readonly (readonly unknown[])[]): Pipeline {
    return new Pipeline(this.#core, commands);
  }

  /**
   * MULTI/EXEC for keys of one slot, on a pooled connection to its master.
   * Keys in different slots are rejected before anything is sent
   * (CrossSlotError); a transaction refused before EXEC (MOVED/ASK/TRYAGAIN)
   * is re-run on the slot's new owner; an EXEC whose connection was lost is
   * never re-sent (ConnectionError, maybeSent). See docs/03-multi-key.md#transactions.
   */
  multi(commands?: readonly (readonly unknown[])[] | { pipeline: boolean }): Transaction {
    if (commands !== undefined && !Array.isArray(commands)) {
      throw new InvalidArgumentError('multi options', 'only queued transactions are supported: call multi() or multi([[name, ...args], …]) and then exec()');
    }
    const core = this.#core;
    return new Transaction((prepared) => core.traceBatch('transaction', prepared.commands.length, () => runTransaction(core, prepared)), commands as readonly (readonly unknown[])[] | undefined);
  }

  /**
   * WATCH `keys` (one slot) on a dedicated connection, run `fn` on it —
   * reads through `tx`, then `tx.multi()…exec()` — and release it. A changed
   * key, or the slot moving before EXEC, rejects with WatchConflictError
   * (nothing applied); `opts.retries` re-runs `fn` that many times first.
   *
   * ```ts
   * await client.watch('{acct:1}:balance', async (tx) => {
   *   const balance = Number(await tx.get('{acct:1}:balance'));
   *   return tx.multi().set('{acct:1}:balance', balance - 10).exec();
   * }, { retries: 5 });
   * ```
   */
  watch<T>(keys: string | Buffer | readonly (string | Buffer)[], fn: (tx: WatchContext) => Promise<T>, opts?: WatchOptions): Promise<T> {
    return runWatch(this.#core, typeof keys === 'string' || Buffer.isBuffer(keys) ? [keys] : keys, fn, opts);
  }

  /** SCRIPT LOAD on every node (masters and replicas, for EVALSHA_RO on replicas); resolves the SHA1. */
  scriptLoad(lua: string): Promise<string> {
    return this.#ops.scriptLoad(lua);
  }

  /** SCRIPT FLUSH on every node. */
  scriptFlush(mode?: 'ASYNC' | 'SYNC'): Promise<'OK'> {
    return this.#ops.scriptFlush(mode);
  }

  /** FUNCTION LOAD [REPLACE] on every master (replicas get it by replication); resolves the library name. */
  functionLoad(code: string, opts?: { replace?: boolean }): Promise<string> {
    return this.#ops.functionLoad(code, opts);
  }

  /**
   * A Lua script bound to this client: `await script.run(keys, args)` runs
   * EVALSHA on the keys' slot owner, with an EVAL fallback on NOSCRIPT.
   */
  defineScript(def: ScriptDefinition): Script {
    return new Script(def, (name, args, buffer, timeoutMs) => this.send(name, args, {
      ...(buffer ? { buffer } : {}),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    }));
  }

  /**
   * ioredis' `defineCommand`: adds `client[name](...keys, ...args)` and
   * `client[name + 'Buffer']`, running `lua` by EVALSHA on the keys' slot
   * owner with an EVAL fallback on NOSCRIPT (see defineScript). Without
   * `numberOfKeys` the first argument of each call is the key count. A
   * trailing function argument is called back as in ioredis.
   *
   * ```ts
   * client.defineCommand('echoKeys', { numberOfKeys: 2, lua: 'return {KEYS[1], KEYS[2], ARGV[1]}' });
   * await (client as any).echoKeys('{t}a', '{t}b', 'x'); // ['{t}a', '{t}b', 'x']
   * ```
   */
  defineCommand(name: string, def: CommandDefinition): void {
    checkDefinition(name, def);
    const script = this.defineScript({ name, lua: def.lua, ...(def.readOnly === undefined ? {} : { readOnly: def.readOnly }) });
    installCommand(this, name, { script, numberOfKeys: def.numberOfKeys ?? undefined }, this.#defined,
      (s, keys, args, buffer) => s.run(keys as (string | Buffer)[], args as (string | Buffer | number)[], { buffer }));
  }

  /**
   * Runs `fn` on a dedicated pooled connection to the master serving `key`'s
   * slot (or `{ slot }`), for what must share one connection: a write and the
   * WAIT that checks its replication, WATCH/MULTI/EXEC. The connection is
   * returned when `fn` settles. Nothing inside `fn` is retried by slotwise:
   * a MOVED or connection error reaches the caller (the map is refreshed).
   */
  async withConnection<T>(key: string | Buffer | { slot: number }, fn: (conn: DedicatedConnection) => Promise<T>): Promise<T> {
    const slot = typeof key === 'object' && !Buffer.isBuffer(key) ? key.slot : slotOf(key);
    checkSlot(slot);
    const core = this.#core;
    if (core.closed) throw new ClientClosedError();
    await core.ready();
    const node = core.masterOf(slot);
    const conn = await core.acquire(node);
    let broken = false;
    try {
      return await fn(conn);
    } catch (err) {
      broken = core.learn(err, node, slot).c.kind === 'connection';
      throw err;
    } finally {
      await (broken ? conn.destroy() : conn.release());
    }
  }

  /**
   * Pub/sub on connections of its own (created on first use, closed by
   * `quit()`/`disconnect()`): its `gap` event reports every window in which
   * a subscription was not live. See docs/06-pubsub.md.
   */
  get subscriber(): PubSub {
    if (this.#pubsub === undefined) {
      const core = this.#core;
      if (core.closed) throw new ClientClosedError();
      this.#pubsub = new PubSub(core, this);
    }
    return this.#pubsub;
  }

  /** Classic SUBSCRIBE (PUBLISH is broadcast cluster-wide). Resolves once live. */
  subscribe(channels: string | readonly string[], handler: MessageHandler): Promise<Subscription> {
    return this.subscriber.subscribe(channels, handler);
  }

  /** Classic PSUBSCRIBE to channel patterns. Resolves once live. */
  psubscribe(patterns: string | readonly string[], handler: MessageHandler): Promise<Subscription> {
    return this.subscriber.psubscribe(patterns, handler);
  }

  /** Sharded SSUBSCRIBE: each channel on its slot's owner, kept there through reshards and failovers. */
  ssubscribe(channels: string | readonly string[], handler: MessageHandler): Promise<Subscription> {
    return this.subscriber.ssubscribe(channels, handler);
  }

  /** `for await (const msg of client.subscribeIterator(channel))`. */
  subscribeIterator(channels: string | readonly string[], options?: IteratorOptions): MessageIterator {
    return this.subscriber.subscribeIterator(channels, options);
  }

  /** `for await (const msg of client.psubscribeIterator(pattern))`. */
  psubscribeIterator(patterns: string | readonly string[], options?: IteratorOptions): MessageIterator {
    return this.subscriber.psubscribeIterator(patterns, options);
  }

  /** `for await (const msg of client.ssubscribeIterator(channel))`. */
  ssubscribeIterator(channels: string | readonly string[], options?: IteratorOptions): MessageIterator {
    return this.subscriber.ssubscribeIterator(channels, options);
  }

  /** Keyspace notifications (e.g. `expired`) from every master; see docs/06-pubsub.md. */
  keyspaceEvents(options: KeyspaceEventsOptions, handler: (event: KeyspaceEvent) => void | Promise<void>): Promise<Subscription> {
    return this.subscriber.keyspaceEvents(options, handler);
  }

  /**
   * The client's live numbers as a plain object — in flight, failed,
   * redirects, waits, breaker changes, topology refreshes, and per node its
   * commands, latency, breaker state and pool usage. The same numbers the
   * OpenTelemetry metrics report (docs/17-observability.md).
   */
  stats(): ClientStats {
    return this.#core.stats();
  }

  /**
   * The W3C trace context (`traceparent`, `tracestate`) of the caller's
   * active OpenTelemetry span, to carry across a process boundary (the work
   * queue puts it into each job); undefined when tracing is off or no span is active.
   */
  traceContext(): Record<string, string> | undefined {
    return this.#core.traceContext();
  }

  /**
   * Client-side cache counters (option `clientSideCache`): hits, misses,
   * invalidations, evictions, and the entries and estimated bytes held now.
   * All zero when the cache is off. See docs/19-client-side-cache.md.
   */
  cacheStats(): CacheStats {
    return this.#core.cacheStats();
  }

  /** Node handles of the current map: `'master'`, `'replica'` or `'all'`. */
  nodes(role: 'master' | 'replica' | 'all' = 'all'): NodeHandle[] {
    return this.#core.nodes(role);
  }

  /**
   * Every key of the cluster (matching `match`/`type`), master by master,
   * as an async iterator. Survives reshards and failovers while it runs:
   * every key that exists throughout the iteration is yielded at least once;
   * keys whose slot moved (or whose master failed over) during the scan may
   * be yielded again. See docs/03-multi-key.md#scanning-the-whole-cluster.
   *
   * ```ts
   * for await (const key of client.scanIterator({ match: 'session:*', count: 500 })) { … }
   * ```
   */
  scanIterator(opts?: ScanOptions): ScanIterator {
    return this.#ops.scanIterator(opts);
  }

  /**
   * Runs `fn` on every node of the current map with that role, in parallel;
   * resolves with the results in node order, or rejects with the first error.
   */
  forEachNode<T>(role: NodeRoleFilter, fn: (node: NodeHandle) => T | Promise<T>): Promise<T[]> {
    return this.#ops.forEachNode(role, fn);
  }

  /** Stops accepting commands, lets every accepted one finish, then closes every connection. */
  async quit(): Promise<void> {
    await this.#core.quit(async () => this.#pubsub?.close());
    untrackClient(this);
  }

  /** Closes every connection now; pending commands fail with ClientClosedError. */
  async disconnect(): Promise<void> {
    await this.#core.disconnect(async () => this.#pubsub?.close());
    untrackClient(this);
  }

  /** `await using client = …` closes the client like `quit()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.quit();
  }

  static {
    const skip = new Set<string>(['quit', 'monitor']);
    const proto = this.prototype as unknown as Record<string, unknown>;
    for (const name of commandNames) {
      if (skip.has(name) || name in proto) continue;
      proto[name] = function (this: ClusterClient, ...args: unknown[]) {
        return this.#run(name, args, false);
      };
      proto[`${name}Buffer`] = function (this: ClusterClient, ...args: unknown[]) {
        return this.#run(name, args, true);
      };
    }
  }
}
