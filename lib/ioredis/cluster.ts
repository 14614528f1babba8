import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { list as commandNames } from '@ioredis/commands';
import type { RedisCommander } from 'ioredis';
import { ClusterClient, type NodeHandle } from '../index.js';
import { ClientClosedError, ConnectionError, InvalidArgumentError } from '../errors.js';
import { describe } from '../core/describe.js';
import { checkDefinition, installCommand, type CommandDefinition, type DefinedCommand } from '../scripts/define-command.js';
import { IoredisBatch, type BatchHost } from './batch.js';
import { ClusterNodeClient } from './node.js';
import { mapOptions, type ClusterNode, type IoredisClusterOptions, type MappedOptions } from './options.js';
import { prefixArgs, prefixKey } from './prefix.js';
import { EventPubSub } from './pubsub-events.js';
import { cursorStream, iteratorStream, scanTail, type ScanStreamOptions } from './scan-stream.js';

/** ioredis' Cluster status values. */
export type ClusterStatus = 'wait' | 'connecting' | 'connect' | 'ready' | 'reconnecting' | 'disconnecting' | 'close' | 'end';

type Callback = (err: Error | null, result?: unknown) => void;

/** Methods the Cluster defines itself, or that a cluster facade does not offer (WATCH/EXEC belong to multi()). */
type Overridden = 'call' | 'callBuffer' | 'quit' | 'monitor' | 'subscribe' | 'psubscribe' | 'ssubscribe' | 'unsubscribe' | 'punsubscribe'
  | 'sunsubscribe' | 'watch' | 'exec' | 'discard' | 'unwatch' | 'multi' | 'pipeline';

/** Typed Redis command methods, as on ioredis' Cluster. */
export interface Cluster extends Omit<RedisCommander<{ type: 'default' }>, Overridden> {}

type SendOptions = Parameters<ClusterClient['send']>[2];
// Shared per-call settings: no object per command.
const UTF8: SendOptions = Object.freeze({});
const BUFFER: SendOptions = Object.freeze({ buffer: true });
const NOT_OFFERED = new Set(['monitor', 'watch', 'exec', 'discard', 'unwatch', 'select', 'quit']);

/** Options reported already in this process (each is reported once). */
const reported = new Set<string>();

/**
 * ioredis' `Cluster` — `new Cluster(startupNodes, options)`, its options,
 * status, events, typed commands, pipelines, transactions, scripts and
 * pub/sub — built on slotwise's {@link ClusterClient} (`cluster.slotwise`):
 * every command takes slotwise's router (MOVED/ASK followed, failovers and
 * reshards waited out within one deadline, cross-slot MGET/MSET/DEL split,
 * pipelines across nodes). What differs from ioredis, and why:
 * docs/14-ioredis-compat.md.
 *
 * ```ts
 * import { Cluster } from 'slotwise/ioredis';
 * const cluster = new Cluster([{ host: '127.0.0.1', port: 7000 }], { redisOptions: { password } });
 * await cluster.set('foo', 'bar');
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class Cluster extends EventEmitter {
  /** The options as given. */
  readonly options: IoredisClusterOptions;
  /** The startup nodes as given (ioredis' `startupNodes`). */
  readonly startupNodes: readonly ClusterNode[];
  /** The slotwise ClusterClient underneath: the primary API, usable side by side (`client` is the CLIENT command here). */
  readonly slotwise: ClusterClient;
  /** Always true, as on ioredis' Cluster (code that handles `Redis | Cluster` tests it). */
  readonly isCluster = true;
  /** Options given that slotwise does not honour (each also reported once per process by `process.emitWarning`). */
  readonly ignoredOptions: readonly string[];
  readonly #mapped: MappedOptions;
  readonly #pubsub: EventPubSub;
  readonly #defined = new Map<string, { cmd: DefinedCommand; buffer: boolean }>();
  readonly #definedNames = new Set<string>();
  readonly #loaded = new Map<DefinedCommand, Promise<unknown>>();
  readonly #wrappers = new WeakMap<NodeHandle, ClusterNodeClient>();
  readonly #byAddress = new Map<string, ClusterNodeClient>();
  readonly #batchHost: BatchHost;
  #status: ClusterStatus = 'wait';
  #connecting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #retry: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  #attempts = 0;

  constructor(startupNodes: ClusterNode[], options: IoredisClusterOptions = {}) {
    super();
    this.#mapped = mapOptions(startupNodes, options);
    this.options = options;
    this.startupNodes = startupNodes;
    this.ignoredOptions = Object.freeze(this.#mapped.ignored.map((i) => i.option));
    for (const { option, why } of this.#mapped.ignored) {
      if (reported.has(option)) continue;
      reported.add(option);
      process.emitWarning(`slotwise/ioredis: option "${option}" is not honoured: ${why}. See docs/14-ioredis-compat.md`, {
        type: 'SlotwiseCompatWarning', code: 'SLOTWISE_IOREDIS_OPTION_IGNORED',
      });
    }
    const client = new ClusterClient(this.#mapped.client);
    this.slotwise = client;
    this.#pubsub = new EventPubSub(client, (e, ...a) => this.emit(e, ...a), (e) => this.listenerCount(e) > 0);
    this.#batchHost = {
      keyPrefix: this.#mapped.keyPrefix,
      defined: this.#defined,
      open: (kind) => (kind === 'pipeline' ? client.pipeline() : client.multi()),
      load: (cmd) => this.#load(cmd),
      runScript: (cmd, keys, args, buffer) => cmd.script.run(keys as (string | Buffer)[], args as (string | Buffer | number)[], { buffer }),
    };
    this.#wire();
    for (const [name, def] of Object.entries(this.#mapped.scripts)) this.defineCommand(name, def);
    if (!this.#mapped.lazyConnect) this.connect().catch(() => undefined);
  }

  /** ioredis' status: wait → connecting → connect → ready; reconnecting between failed discoveries; close → end once closed. */
  get status(): ClusterStatus {
    return this.#status;
  }

  /**
   * Discovers the cluster; resolves once `ready`. A failed discovery emits
   * `error` (only while listened to) and is retried after
   * `clusterRetryStrategy(times, err)` ms (`reconnecting`); when it returns
   * no number the promise rejects and the Cluster ends. Resolves at once
   * when already ready.
   */
  connect(): Promise<void> {
    if (this.#closing) return Promise.reject(new ClientClosedError());
    if (this.#status === 'ready') return Promise.resolve();
    this.#connecting ??= this.#connectLoop().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  /** Runs any command by name. */
  call(name: string, ...args: unknown[]): Promise<unknown> {
    return this.#send(name, args, false);
  }

  /** Like `call()`, replies as Buffers. */
  callBuffer(name: string, ...args: unknown[]): Promise<unknown> {
    return this.#send(name, args, true);
  }

  /** A pipeline: keys of any slots (slotwise routes each command), `[err, result]` per command in order. */
  pipeline(commands?: readonly (readonly unknown[])[]): IoredisBatch {
    return new IoredisBatch(this.#batchHost, 'pipeline', commands);
  }

  /** MULTI/EXEC for keys of one slot. `multi({ pipeline: false })` is refused, as in ioredis' Cluster. */
  multi(commands?: readonly (readonly unknown[])[] | { pipeline: boolean }): IoredisBatch {
    if (commands !== undefined && !Array.isArray(commands)) {
      throw new InvalidArgumentError('multi options', 'multi({ pipeline: false }) is not supported on a cluster; use multi() or multi([[name, ...args], …])');
    }
    return new IoredisBatch(this.#batchHost, 'multi', commands as readonly (readonly unknown[])[] | undefined);
  }

  /** Defines `cluster[name](...keys, ...args)` and `cluster[name + 'Buffer']`, also on pipelines and multi (EVALSHA, NOSCRIPT → EVAL). */
  defineCommand(name: string, def: CommandDefinition): void {
    checkDefinition(name, def);
    const script = this.slotwise.defineScript({ name, lua: def.lua, ...(def.readOnly === undefined ? {} : { readOnly: def.readOnly }) });
    const cmd: DefinedCommand = { script, numberOfKeys: def.numberOfKeys ?? undefined };
    const prefix = this.#mapped.keyPrefix;
    installCommand(this, name, cmd, this.#definedNames, (s, keys, args, buffer) =>
      s.run((prefix === undefined ? keys : keys.map((k) => prefixKey(k, prefix))) as (string | Buffer)[], args as (string | Buffer | number)[], { buffer }));
    this.#defined.set(name, { cmd, buffer: false });
    this.#defined.set(`${name}Buffer`, { cmd, buffer: true });
  }

  /** A new Cluster with the same startup nodes and options (each may be overridden). */
  duplicate(overrideStartupNodes: ClusterNode[] = [], overrideOptions: IoredisClusterOptions = {}): Cluster {
    const nodes = overrideStartupNodes.length > 0 ? overrideStartupNodes : [...this.startupNodes];
    return new Cluster(nodes, { ...this.options, ...overrideOptions });
  }

  /** The nodes of the current map with a role: `'master'`, `'slave'` or `'all'`. Each runs commands on that node only. */
  nodes(role: 'master' | 'slave' | 'all' = 'all'): ClusterNodeClient[] {
    if (role !== 'master' && role !== 'slave' && role !== 'all') {
      throw new InvalidArgumentError('nodes() role', `expected "master", "slave" or "all", got ${describe(role)}`);
    }
    return this.slotwise.nodes(role === 'slave' ? 'replica' : role).map((n) => this.#wrap(n));
  }

  /**
   * Every key of the cluster — every master scanned, surviving reshards and
   * failovers (slotwise's scanIterator) — as an object-mode stream of key
   * arrays of at most `count` (default 10) keys. ioredis' Cluster has no
   * cluster-wide scanStream; `nodes('master')[i].scanStream()` is here too.
   */
  scanStream(opts: ScanStreamOptions = {}): Readable {
    const { match, count, type } = opts;
    const iterator = this.slotwise.scanIterator({ ...(match === undefined ? {} : { match }), ...(count === undefined ? {} : { count }), ...(type === undefined ? {} : { type }) });
    return iteratorStream(iterator, count ?? 10);
  }

  /** SSCAN of the set `key`, as an object-mode stream of member arrays (one per SSCAN step). */
  sscanStream(key: string, opts?: ScanStreamOptions): Readable {
    return cursorStream((c) => this.#send('sscan', [key, c, ...scanTail(opts)], false));
  }

  /** As sscanStream, members as Buffers. */
  sscanBufferStream(key: string, opts?: ScanStreamOptions): Readable {
    return cursorStream((c) => this.#send('sscan', [key, c, ...scanTail(opts)], true));
  }

  /** HSCAN of the hash `key`, as an object-mode stream of flat `[field, value, …]` arrays (one per HSCAN step). */
  hscanStream(key: string, opts?: ScanStreamOptions): Readable {
    return cursorStream((c) => this.#send('hscan', [key, c, ...scanTail(opts)], false));
  }

  /** As hscanStream, fields and values as Buffers. */
  hscanBufferStream(key: string, opts?: ScanStreamOptions): Readable {
    return cursorStream((c) => this.#send('hscan', [key, c, ...scanTail(opts)], true));
  }

  /** ZSCAN of the sorted set `key`, as an object-mode stream of flat `[member, score, …]` arrays (one per ZSCAN step). */
  zscanStream(key: string, opts?: ScanStreamOptions): Readable {
    return cursorStream((c) => this.#send('zscan', [key, c, ...scanTail(opts)], false));
  }

  /** As zscanStream, members and scores as Buffers. */
  zscanBufferStream(key: string, opts?: ScanStreamOptions): Readable {
    return cursorStream((c) => this.#send('zscan', [key, c, ...scanTail(opts)], true));
  }

  /** SUBSCRIBE; messages arrive as `message` events `(channel, message)`. Resolves the number of subscribed channels. */
  subscribe(...channels: unknown[]): Promise<number> {
    return this.#safe(() => this.#pubsub.subscribe('subscribe', channels));
  }

  /** PSUBSCRIBE; messages arrive as `pmessage` events `(pattern, channel, message)`. */
  psubscribe(...patterns: unknown[]): Promise<number> {
    return this.#safe(() => this.#pubsub.subscribe('psubscribe', patterns));
  }

  /** SSUBSCRIBE (sharded; channels of any slots); messages arrive as `smessage` events `(channel, message)`. */
  ssubscribe(...channels: unknown[]): Promise<number> {
    return this.#safe(() => this.#pubsub.subscribe('ssubscribe', channels));
  }

  /** UNSUBSCRIBE from `channels` (all when none given). Resolves the number of channels still subscribed. */
  unsubscribe(...channels: unknown[]): Promise<number> {
    return this.#safe(() => this.#pubsub.unsubscribe('subscribe', channels));
  }

  /** PUNSUBSCRIBE from `patterns` (all when none given). */
  punsubscribe(...patterns: unknown[]): Promise<number> {
    return this.#safe(() => this.#pubsub.unsubscribe('psubscribe', patterns));
  }

  /** SUNSUBSCRIBE from sharded `channels` (all when none given). */
  sunsubscribe(...channels: unknown[]): Promise<number> {
    return this.#safe(() => this.#pubsub.unsubscribe('ssubscribe', channels));
  }

  /** Lets every accepted command finish, then closes every connection; emits `close` and `end`. */
  quit(callback?: (err: Error | null, result?: 'OK') => void): Promise<'OK'> {
    const p = this.#close(true).then(() => 'OK' as const);
    if (callback) p.then((v) => callback(null, v), (e: Error) => callback(e));
    return p;
  }

  /**
   * Closes every connection now (pending commands fail with
   * ClientClosedError); emits `close` and `end`. `disconnect(true)`
   * (reconnect) is not supported: use `duplicate()`.
   */
  disconnect(reconnect = false): Promise<void> {
    if (reconnect) throw new InvalidArgumentError('disconnect(reconnect)', 'reconnecting a disconnected Cluster is not supported; create a new one with duplicate()');
    return this.#close(false);
  }

  #send(name: string, input: unknown[], buffer: boolean): Promise<unknown> {
    if (this.#status === 'wait') this.connect().catch(() => undefined);
    const last = input[input.length - 1];
    const cb = typeof last === 'function' ? (input.pop() as Callback) : undefined;
    const prefix = this.#mapped.keyPrefix;
    const p = this.slotwise.send(name, prefix === undefined ? input : prefixArgs(name, input, prefix), buffer ? BUFFER : UTF8);
    if (cb) p.then((v) => cb(null, v), (e: Error) => cb(e));
    return p;
  }

  #safe<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return fn();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #setStatus(status: ClusterStatus, ...args: unknown[]): void {
    this.#status = status;
    if (status !== 'wait' && status !== 'disconnecting') this.emit(status, ...args);
  }

  async #connectLoop(): Promise<void> {
    for (;;) {
      this.#setStatus('connecting');
      try {
        await this.slotwise.connect();
      } catch (err) {
        if (this.#closing) throw err;
        if (this.listenerCount('error') > 0) this.emit('error', err);
        const strategy = this.#mapped.clusterRetryStrategy;
        const delay = strategy === null ? undefined : strategy.call(this, ++this.#attempts, err as Error);
        if (typeof delay !== 'number') {
          await this.#close(false);
          throw err;
        }
        this.#setStatus('reconnecting', delay);
        await new Promise<void>((resolve) => {
          this.#retry = { timer: setTimeout(resolve, delay), wake: resolve };
        });
        this.#retry = undefined;
        if (this.#closing) throw new ClientClosedError();
        continue;
      }
      if (this.#closing) throw new ClientClosedError();
      this.#attempts = 0;
      this.#setStatus('connect');
      this.#setStatus('ready');
      return;
    }
  }

  #close(graceful: boolean): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#retry) {
        clearTimeout(this.#retry.timer);
        this.#retry.wake();
      }
      this.#status = 'disconnecting';
      await this.#pubsub.closeAll();
      await (graceful ? this.slotwise.quit() : this.slotwise.disconnect());
      this.#setStatus('close');
      this.#setStatus('end');
    })();
    return this.#closing;
  }

  #load(cmd: DefinedCommand): Promise<unknown> {
    let p = this.#loaded.get(cmd);
    if (p === undefined) {
      p = this.slotwise.scriptLoad(cmd.script.lua);
      this.#loaded.set(cmd, p);
      p.catch(() => this.#loaded.delete(cmd));
    }
    return p;
  }

  #wrap(node: NodeHandle): ClusterNodeClient {
    let w = this.#wrappers.get(node);
    if (w === undefined) {
      w = new ClusterNodeClient(node, this.#mapped.keyPrefix);
      this.#wrappers.set(node, w);
    }
    return w;
  }

  /** ioredis' events from slotwise's: +node/-node, node error (a node's breaker opened), refresh (the map changed), error. */
  #wire(): void {
    const client = this.slotwise;
    client.on('error', (err) => {
      // Before ready, the connect loop reports each failed discovery itself.
      if (this.#status === 'ready' && this.listenerCount('error') > 0) this.emit('error', err);
    });
    client.on('node:added', ({ address }) => {
      const handle = client.nodes('all').find((n) => n.address === address);
      if (handle === undefined) return;
      const w = this.#wrap(handle);
      this.#byAddress.set(address, w);
      this.emit('+node', w);
    });
    client.on('node:removed', ({ address }) => {
      const w = this.#byAddress.get(address);
      this.#byAddress.delete(address);
      if (w) this.emit('-node', w);
    });
    client.on('breaker', ({ address, state }) => {
      if (state === 'open') this.emit('node error', new ConnectionError(`Node ${address} keeps failing: its circuit breaker opened`, { address }), address);
    });
    client.on('topology', () => this.emit('refresh'));
  }

  static {
    const proto = this.prototype as unknown as Record<string, unknown>;
    for (const name of commandNames) {
      if (name in proto || NOT_OFFERED.has(name)) continue;
      proto[name] = function (this: Cluster, ...args: unknown[]) {
        return this.#send(name, args, false);
      };
      proto[`${name}Buffer`] = function (this: Cluster, ...args: unknown[]) {
        return this.#send(name, args, true);
      };
    }
  }
}
