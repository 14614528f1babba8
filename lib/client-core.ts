import type { Redis } from 'ioredis';
import { AuthError, ClientClosedError, TopologyError } from './errors.js';
import { channels, type ClusterClientEvents } from './client-events.js';
import { resolveOptions, type ClusterClientOptions, type ResolvedOptions } from './options.js';
import { credentialsFor, openConnection, reauth } from './node/connection.js';
import type { NodeHandle, NodeRole } from './node/node-handle.js';
import type { DedicatedConnection } from './node/pool.js';
import { NodeRegistry, type NodeRef } from './node/registry.js';
import { Executor } from './router/executor.js';
import type { ExecOptions, RequestSequencer, RouteOptions } from './router/request.js';
import type { NodeRoleFilter, RedirectTarget, Router } from './router/router.js';
import { Splitter } from './router/splitter.js';
import { classify, isUnknownCommandReply, type Classified } from './core/classify.js';
import { createAddressMapper } from './topology/address-map.js';
import type { NodeAnswer } from './topology/consensus.js';
import { parseClusterShards, parseClusterSlots, parseCurrentEpoch } from './topology/parse.js';
import type { TopologySnapshot } from './topology/snapshot.js';
import { Topology } from './topology/topology.js';
import { watchSources } from './config/watch-sources.js';
import { thawOptions } from './config/live-options.js';
import { Telemetry } from './telemetry/telemetry.js';
import type { ClientStats } from './telemetry/stats.js';
import { ClientCache } from './cache/client-cache.js';
import type { CacheStats } from './cache/store.js';

/** Lifecycle of a ClusterClient: `idle` until `connect()` (or the first command), then `connecting`, `ready`, and `closing`/`closed` after `quit()`/`disconnect()`. */
export type ClientStatus = 'idle' | 'connecting' | 'ready' | 'closing' | 'closed';

type Emit = <K extends keyof ClusterClientEvents>(event: K, ...args: ClusterClientEvents[K]) => boolean;

/** Builds the handle of one node; a test injects fakes here (no sockets). */
export type NodeFactory = (host: string, port: number, address: string, role: NodeRole) => NodeHandle;

const NO_OPTIONS: ExecOptions = Object.freeze({});
const NO_ROUTE: RouteOptions = Object.freeze({});

/**
 * The client core (internal), and the one implementation of Router: node
 * registry, topology, executor and splitter built from one set of options,
 * plus the client's lifecycle (connect, quit, disconnect). The facade in
 * cluster-client.ts adds the public API on top; everything else it builds
 * (pipeline, transaction, scan, cluster-wide ops, pub/sub) gets this object
 * as its Router.
 */
export class ClientCore implements Router {
  readonly options: ResolvedOptions;
  readonly #nodes: NodeRegistry;
  readonly #topology: Topology;
  readonly #executor: Executor;
  readonly #splitter: Splitter;
  readonly #emit: Emit;
  readonly #telemetry: Telemetry;
  readonly #hasErrorListener: () => boolean;
  /** Standalone connections handed out by openConnection() (subscribers), for reauthenticate(). */
  readonly #standalone = new Set<Redis>();
  /** Client-side cache (option `clientSideCache`), undefined when off. */
  readonly #cache: ClientCache | undefined;
  #status: ClientStatus = 'idle';
  #connecting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  /** Stops the discovery and configuration watches started by connect(). */
  #unwatch: (() => void) | undefined;
  readonly #input: ClusterClientOptions;

  constructor(input: ClusterClientOptions, emit: Emit, hasErrorListener: () => boolean, createNode?: NodeFactory) {
    this.#emit = emit;
    this.#hasErrorListener = hasErrorListener;
    this.#input = input;
    const resolved = resolveOptions(input);
    // With a configuration source the options object is updated in place, so it must not be frozen.
    this.options = resolved.config ? thawOptions(resolved) : resolved;
    this.#telemetry = new Telemetry({
      options: this.options,
      pending: () => this.#executor.pending,
      failed: () => this.#executor.failed,
      nodes: () => this.nodes('all'),
      version: () => this.#topology.current?.version,
    });
    const cacheOptions = this.options.clientSideCache;
    this.#cache = cacheOptions === undefined ? undefined : new ClientCache(this.options, cacheOptions, {
      current: () => this.#topology.current,
      run: (name, args, opts, seq) => this.#splitter.run(name, args, opts, seq),
    });
    const cache = this.#cache;
    this.#nodes = new NodeRegistry(this.options, {
      ...(cache === undefined ? {} : { prepare: (node: NodeHandle, redis: Redis) => cache.prepare(node, redis) }),
      onBreaker: (node, state) => {
        this.#topology.setUnreachable(node.address, state !== 'closed');
        if (state === 'closed') this.#executor.wakeParked();
        this.#telemetry.breaker(node.address, state);
        this.#emit('breaker', { address: node.address, state });
      },
      onConnectionFailure: (node) => {
        cache?.connectionLost(node.address);
        this.#topology.setUnreachable(node.address, true);
      },
      onConnected: (node) => this.#topology.setUnreachable(node.address, false),
    }, createNode);
    this.#topology = new Topology(this.options.rootNodes, {
      options: this.options,
      map: createAddressMapper(this.options.natMap),
      query: (address, host, port) => this.#query(address, host, port),
      onSnapshot: (prev, next, reason) => this.#onSnapshot(prev, next, reason),
      ...(this.options.discovery ? { discover: () => this.options.discovery!.resolve() } : {}),
      traceRefresh: (reason, run) => this.#telemetry.refresh(reason, run),
      onRefresh: (info) => {
        this.#telemetry.refreshed(info);
        if (channels.topology.hasSubscribers) channels.topology.publish(info);
        if (info.error && this.#hasErrorListener()) this.#emit('error', info.error);
      },
    });
    this.#executor = new Executor({
      options: this.options,
      topology: this.#topology,
      nodes: this.#nodes,
      onRedirect: (info) => {
        cache?.redirected(info.slot);
        this.#emit('redirect', info);
      },
      migrations: {
        stuck: (info) => this.#emit('migration:stuck', info),
        cleared: (info) => this.#emit('migration:cleared', info),
      },
      observer: this.#telemetry,
    });
    this.#splitter = new Splitter(this.#executor, this);
  }

  get status(): ClientStatus {
    return this.#status;
  }

  get closed(): boolean {
    return this.#status === 'closing' || this.#status === 'closed';
  }

  /** Resolves once the map is known (connecting on first use). */
  readonly ready = (): Promise<void> => (this.#status === 'ready' ? Promise.resolve() : this.connect());

  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new ClientClosedError());
    if (this.#status === 'ready') return Promise.resolve();
    this.#connecting ??= (async () => {
      this.#status = 'connecting';
      this.#unwatch ??= watchSources(this.#input, this.options, {
        seeds: (nodes) => this.#topology.setSeeds(nodes),
        applied: (changed) => this.#emit('config', changed),
        error: (err) => {
          if (this.#hasErrorListener()) this.#emit('error', err);
        },
      });
      this.#telemetry.attach();
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

  /** Graceful close: `beforeDrain` (pub/sub) first, then every accepted command finishes. */
  quit(beforeDrain: () => Promise<void>): Promise<void> {
    this.#closing ??= (async () => {
      this.#status = 'closing';
      await beforeDrain();
      this.#executor.close();
      await this.#executor.drain();
      this.#unwatch?.();
      await this.#cache?.close();
      this.#topology.stop();
      await this.#nodes.closeAll(true);
      this.#telemetry.detach();
      this.#status = 'closed';
    })();
    return this.#closing;
  }

  async disconnect(beforeClose: () => Promise<void>): Promise<void> {
    if (this.#status === 'closed') return;
    this.#status = 'closing';
    await beforeClose();
    this.#executor.close(new ClientClosedError('The client was disconnected with commands pending'));
    this.#unwatch?.();
    await this.#cache?.close();
    this.#topology.stop();
    await this.#nodes.closeAll(false);
    this.#telemetry.detach();
    this.#status = 'closed';
  }

  // ---- Router ----

  execute(name: string, args: readonly unknown[], opts: ExecOptions = NO_OPTIONS, route: RouteOptions = NO_ROUTE): Promise<unknown> {
    if (route.node !== undefined) return this.#executor.execute(name, args, opts, route);
    return this.#cache === undefined ? this.#splitter.run(name, args, opts, route.sequencer) : this.#cache.execute(name, args, opts, route.sequencer);
  }

  /** Client-side cache counters (all zero when the cache is off). */
  cacheStats(): CacheStats {
    return this.#cache?.stats() ?? { hits: 0, misses: 0, sharedReads: 0, invalidations: 0, evictions: 0, entries: 0, bytes: 0 };
  }

  traceBatch<T>(kind: 'pipeline' | 'transaction', size: number, run: () => Promise<T>): Promise<T> {
    return this.#telemetry.batch(kind, size, run);
  }

  /** The client's counters (see ClusterClient.stats). */
  stats(): ClientStats {
    return this.#telemetry.stats();
  }

  /** W3C trace context of the caller's active span, when tracing is on. */
  traceContext(): Record<string, string> | undefined {
    return this.#telemetry.traceContext();
  }

  sequencer(): RequestSequencer {
    return this.#executor.sequencer();
  }

  get current(): TopologySnapshot | undefined {
    return this.#topology.current;
  }

  nextChange(): Promise<void> {
    return this.#topology.nextChange();
  }

  pause(ms: number): Promise<void> {
    const change = this.#topology.nextChange();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      void change.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  refresh(reason: string): Promise<void> {
    return this.#topology.refresh(reason).then(() => undefined, () => undefined);
  }

  node(d: NodeRef): NodeHandle {
    return this.#nodes.node(d);
  }

  nodes(role: NodeRoleFilter, live = false): NodeHandle[] {
    const snap = this.#topology.current;
    if (!snap) return [];
    if (live) {
      // The masters that serve shards (or every node), skipping nodes the map marks failed.
      const nodes = role === 'master' ? snap.shards.map((s) => s.master) : snap.nodes().filter((n) => role === 'all' || n.role === role);
      return nodes.filter((n) => n.health !== 'failed').map((n) => this.#nodes.node(n));
    }
    return snap.nodes().filter((n) => role === 'all' || n.role === role).map((n) => this.#nodes.node(n));
  }

  masterOf(slot: number): NodeHandle {
    const shard = this.#topology.current?.shardOf(slot);
    if (!shard) {
      this.#topology.requestRefresh('uncovered');
      throw new TopologyError(`No master serves slot ${slot} right now`, {}, { slot });
    }
    return this.#nodes.node(shard.master);
  }

  acquire(node: NodeHandle): Promise<DedicatedConnection> {
    return node.pool.acquire();
  }

  learn(err: unknown, node: NodeHandle, slot: number | undefined): { c: Classified; target?: NodeHandle } {
    const c = classify(err, { address: node.address, ...(slot === undefined ? {} : { slot }) });
    if (c.kind === 'moved' || c.kind === 'ask') {
      const to = this.#topology.followRedirect(c.kind, c.slot, c.host, c.port, node.host);
      return { c, target: this.#nodes.node(to) };
    }
    if (c.kind !== 'final') this.#topology.requestRefresh('dedicated-connection');
    return { c };
  }

  /** `fromHost` (the node that answered) stands in for the empty host of `MOVED <slot> :<port>`. */
  followMoved(err: unknown, fromHost: string): RedirectTarget | undefined {
    const c = classify(err);
    return c.kind === 'moved' ? this.#topology.followRedirect('moved', c.slot, c.host, c.port, fromHost) : undefined;
  }

  async openConnection(host: string, port: number, name: string): Promise<Redis> {
    const r = await openConnection(host, port, this.options, name);
    this.#standalone.add(r);
    r.once('end', () => this.#standalone.delete(r));
    return r;
  }

  /**
   * Re-AUTHs every live connection with one fresh set of credentials: each
   * node's multiplexed connection and pool, and the standalone (subscriber)
   * connections — those only on RESP3, as RESP2 forbids AUTH in subscribed
   * mode. AuthError names the first node that refused.
   */
  async reauthenticate(): Promise<void> {
    if (this.closed) throw new ClientClosedError();
    const creds = await credentialsFor(this.options, 'every node');
    const user = creds?.username ?? 'default';
    const named = (address: string, p: Promise<unknown> | undefined) =>
      Promise.resolve(p).catch((err: unknown) => {
        const reason = String((err as Error)?.message ?? '').split(' ', 1)[0] || 'AUTH';
        throw new AuthError(`Re-authentication as user "${user}" failed on ${address}: ${reason}`, user, reason, { address, cause: err });
      });
    const standalone = this.options.protocol === 3 ? [...this.#standalone].filter((r) => r.status === 'ready') : [];
    await Promise.all([
      ...this.#nodes.all().map((n) => named(n.address, n.reauthenticate(creds))),
      ...standalone.map((r) => named(`${r.options.host}:${r.options.port}`, reauth(r, creds))),
    ]);
  }

  async #query(address: string, host: string, port: number): Promise<NodeAnswer> {
    const role = this.#topology.current?.node(address)?.role ?? 'master';
    const node = this.#nodes.node({ address, host, port, role });
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
    this.#cache?.topologyChanged(prev, next, removed);
    for (const address of removed) this.#emit('node:removed', { address });
    if (prev === undefined || reason !== 'moved') {
      for (const n of next.nodes()) {
        if (!prev?.node(n.address)) this.#emit('node:added', { address: n.address, role: n.role });
      }
    }
    this.#emit('topology', next, prev, reason);
  }
}
