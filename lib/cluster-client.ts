import { EventEmitter } from 'node:events';
import { list as commandNames } from '@ioredis/commands';
import type { Redis, RedisCommander } from 'ioredis';
import { ClientClosedError, InvalidArgumentError, TopologyError } from './errors.js';
import { trackClient, untrackClient } from './internal/open-clients.js';
import { channels, type ClusterClientEvents } from './client-events.js';
import { ClusterOps, type NodeRoleFilter } from './cluster-ops.js';
import { formatAddress, resolveOptions, type ClusterClientOptions, type ResolvedOptions } from './options.js';
import { openConnection } from './node/connection.js';
import { NodeRegistry } from './node/registry.js';
import type { NodeHandle } from './node/node-handle.js';
import { Executor, type ExecOptions } from './router/executor.js';
import { classify, isUnknownCommandReply } from './router/redirect.js';
import { slotOf, SLOT_COUNT } from './router/slot.js';
import type { DedicatedConnection } from './node/pool.js';
import type { ScanIterator, ScanOptions } from './scan/scan-iterator.js';
import { PubSub } from './pubsub/pubsub.js';
import type { MessageIterator, IteratorOptions, Subscription } from './pubsub/subscription.js';
import type { KeyspaceEvent, KeyspaceEventsOptions } from './pubsub/keyspace.js';
import type { MessageHandler } from './pubsub/types.js';
import { Script, type ScriptDefinition } from './scripts/script.js';
import { createAddressMapper } from './topology/address-map.js';
import type { NodeAnswer } from './topology/consensus.js';
import { parseClusterShards, parseClusterSlots, parseCurrentEpoch } from './topology/parse.js';
import type { AddressMapper, TopologySnapshot } from './topology/snapshot.js';
import { Topology } from './topology/topology.js';

export type ClientStatus = 'idle' | 'connecting' | 'ready' | 'closing' | 'closed';

/** Command methods the client defines itself (or that make no sense on a cluster facade). */
type Overridden = 'quit' | 'call' | 'callBuffer' | 'monitor' | 'subscribe' | 'psubscribe' | 'ssubscribe';

/** Typed Redis command methods, as on an ioredis client. */
export interface ClusterClient extends Omit<RedisCommander<{ type: 'default' }>, Overridden> {}

type Callback = (err: Error | null, result?: unknown) => void;

/**
 * A Redis Cluster client: every command routed by key slot to the node that
 * owns it, surviving reshards (MOVED/ASK), failovers and node loss within one
 * deadline per command. See docs/02-routing.md.
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
  /** The resolved, frozen options. */
  readonly options: ResolvedOptions;
  readonly #map: AddressMapper;
  readonly #nodes: NodeRegistry;
  readonly #topology: Topology;
  readonly #executor: Executor;
  readonly #ops: ClusterOps;
  #status: ClientStatus = 'idle';
  #connecting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #pubsub: PubSub | undefined;

  constructor(options: ClusterClientOptions) {
    super();
    this.options = resolveOptions(options);
    this.#map = createAddressMapper(this.options.natMap);
    this.#nodes = new NodeRegistry(this.options, {
      onBreaker: (node, state) => {
        this.#topology.setUnreachable(node.address, state !== 'closed');
        if (state === 'closed') this.#executor.wakeParked();
        this.emit('breaker', { address: node.address, state });
      },
      onConnectionFailure: (node) => this.#topology.setUnreachable(node.address, true),
      onConnected: (node) => this.#topology.setUnreachable(node.address, false),
    });
    this.#topology = new Topology(this.options.rootNodes, {
      options: this.options,
      map: this.#map,
      query: (address, host, port) => this.#query(address, host, port),
      isUnreachable: (address) => !(this.#nodes.get(address)?.available ?? true),
      onSnapshot: (prev, next, reason) => this.#onSnapshot(prev, next, reason),
      onRefresh: (info) => {
        if (channels.topology.hasSubscribers) channels.topology.publish(info);
        if (info.error && this.listenerCount('error') > 0) this.emit('error', info.error);
      },
    });
    this.#executor = new Executor({
      options: this.options,
      topology: this.#topology,
      nodes: this.#nodes,
      map: this.#map,
      onRedirect: (info) => this.emit('redirect', info),
      wantsDiagnostics: () => channels.command.hasSubscribers,
      onSettled: (info) => channels.command.publish(info),
    });
    this.#ops = new ClusterOps({
      ready: () => (this.#status === 'ready' ? Promise.resolve() : this.connect()),
      current: () => this.#topology.current,
      refresh: (reason) => this.#topology.refresh(reason),
      nextChange: () => this.#topology.nextChange(),
      handle: (address, host, port, role) => this.#nodes.getOrCreate(address, host, port, role),
      nodes: (role) => this.nodes(role),
      execute: (name, args, opts, route) => this.#executor.execute(name, args, opts, route),
    });
    trackClient(this);
  }

  get status(): ClientStatus {
    return this.#status;
  }

  /** The current topology snapshot (undefined before the first discovery). */
  get topology(): TopologySnapshot | undefined {
    return this.#topology.current;
  }

  /**
   * Discovers the cluster (consensus of several nodes). Commands issued
   * before it completes wait (bounded by `maxWaitingCommands` and their
   * deadline). Rejects with TopologyError listing every node's last error.
   */
  connect(): Promise<void> {
    if (this.#status === 'closing' || this.#status === 'closed') return Promise.reject(new ClientClosedError());
    if (this.#status === 'ready') return Promise.resolve();
    this.#connecting ??= (async () => {
      this.#status = 'connecting';
      try {
        await this.#topology.start();
        if (this.#status === 'connecting') this.#status = 'ready';
      } catch (err) {
        this.#connecting = undefined;
        if (this.#status === 'connecting') this.#status = 'idle';
        this.#executor.failWaitingForTopology(err as Error);
        throw err;
      }
    })();
    return this.#connecting;
  }

  /** Runs any command by name: `client.call('OBJECT', 'ENCODING', 'k')`. */
  call(name: string, ...args: unknown[]): Promise<unknown> {
    return this.#run(name, args, false);
  }

  /** Like `call()`, replies as Buffers. */
  callBuffer(name: string, ...args: unknown[]): Promise<unknown> {
    return this.#run(name, args, true);
  }

  /** Runs a command with per-call settings (reply encoding, deadline). */
  send(name: string, args: readonly unknown[], opts: ExecOptions = {}): Promise<unknown> {
    if (this.#status === 'idle') this.connect().catch(() => undefined);
    return this.#executor.execute(name, args, opts);
  }

  #run(name: string, args: unknown[], buffer: boolean): Promise<unknown> {
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      const cb = args.pop() as Callback;
      const p = this.send(name, args, buffer ? { buffer } : {});
      p.then((v) => cb(null, v), (e: Error) => cb(e));
      return p;
    }
    return this.send(name, args, buffer ? { buffer } : {});
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
   * Runs `fn` on a dedicated pooled connection to the master serving `key`'s
   * slot (or `{ slot }`), for what must share one connection: a write and the
   * WAIT that checks its replication, WATCH/MULTI/EXEC. The connection is
   * returned when `fn` settles. Nothing inside `fn` is retried by slotwise:
   * a MOVED or connection error reaches the caller (the map is refreshed).
   */
  async withConnection<T>(key: string | Buffer | { slot: number }, fn: (conn: DedicatedConnection) => Promise<T>): Promise<T> {
    const slot = typeof key === 'object' && !Buffer.isBuffer(key) ? key.slot : slotOf(key);
    if (!Number.isInteger(slot) || slot < 0 || slot >= SLOT_COUNT) {
      throw new InvalidArgumentError('slot', `expected an integer from 0 to ${SLOT_COUNT - 1}, got ${String(slot)}`);
    }
    if (this.#status === 'closing' || this.#status === 'closed') throw new ClientClosedError();
    if (this.#status !== 'ready') await this.connect();
    const shard = this.#topology.current?.shardOf(slot);
    if (!shard) {
      this.#topology.requestRefresh('uncovered');
      throw new TopologyError(`No master serves slot ${slot} right now`, {}, { slot });
    }
    const m = shard.master;
    const conn = await this.#nodes.getOrCreate(m.address, m.host, m.port, 'master').pool.acquire();
    let broken = false;
    try {
      return await fn(conn);
    } catch (err) {
      const c = classify(err, { address: m.address, slot });
      broken = c.kind === 'connection';
      if (c.kind === 'moved') {
        const to = c.host === '' ? { host: m.host, port: c.port } : this.#map(c.host, c.port);
        this.#topology.patchMoved(c.slot, to, formatAddress(to.host, to.port));
      }
      else if (c.kind !== 'final') this.#topology.requestRefresh('dedicated-connection');
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
      if (this.#status === 'closing' || this.#status === 'closed') throw new ClientClosedError();
      this.#pubsub = new PubSub({
        client: this,
        open: (host, port, name) => openConnection(host, port, this.options, name),
        followMoved: (err) => {
          const c = classify(err);
          if (c.kind !== 'moved') return undefined;
          const to = this.#map(c.host, c.port);
          const address = formatAddress(to.host, to.port);
          this.#topology.patchMoved(c.slot, to, address);
          return { host: to.host, port: to.port, address };
        },
        refresh: (reason) => this.#topology.refresh(reason).then(() => undefined, () => undefined),
      });
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

  /** Node handles of the current map: `'master'`, `'replica'` or `'all'`. */
  nodes(role: 'master' | 'replica' | 'all' = 'all'): NodeHandle[] {
    const snap = this.#topology.current;
    if (!snap) return [];
    return snap
      .nodes()
      .filter((n) => role === 'all' || n.role === role)
      .map((n) => this.#nodes.getOrCreate(n.address, n.host, n.port, n.role));
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
  quit(): Promise<void> {
    this.#closing ??= (async () => {
      this.#status = 'closing';
      await this.#pubsub?.close();
      this.#executor.close();
      await this.#executor.drain();
      this.#topology.stop();
      await this.#nodes.closeAll(true);
      this.#status = 'closed';
      untrackClient(this);
    })();
    return this.#closing;
  }

  /** Closes every connection now; pending commands fail with ClientClosedError. */
  async disconnect(): Promise<void> {
    if (this.#status === 'closed') return;
    this.#status = 'closing';
    await this.#pubsub?.close();
    this.#executor.close(new ClientClosedError('The client was disconnected with commands pending'));
    this.#topology.stop();
    await this.#nodes.closeAll(false);
    this.#status = 'closed';
    untrackClient(this);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.quit();
  }

  async #query(address: string, host: string, port: number): Promise<NodeAnswer> {
    const role = this.#topology.current?.node(address)?.role ?? 'master';
    const node = this.#nodes.getOrCreate(address, host, port, role);
    const [shards, info] = await Promise.all([
      node.call('cluster', 'shards').then(
        (reply) => parseClusterShards(reply, host),
        async (err: unknown) => {
          if (!isUnknownCommandReply(err)) throw err;
          return parseClusterSlots(await node.call('cluster', 'slots'), host);
        },
      ),
      node.call('cluster', 'info'),
    ]);
    return { source: address, shards, epoch: parseCurrentEpoch(info) };
  }

  #onSnapshot(prev: TopologySnapshot | undefined, next: TopologySnapshot, reason: string): void {
    const removed = this.#nodes.sync(next);
    for (const address of removed) this.emit('node:removed', { address });
    if (prev === undefined || reason !== 'moved') {
      for (const n of next.nodes()) {
        if (!prev?.node(n.address)) this.emit('node:added', { address: n.address, role: n.role });
      }
    }
    this.emit('topology', next, prev, reason);
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
