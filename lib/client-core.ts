import { ClientClosedError } from './errors.js';
import { channels, type ClusterClientEvents } from './client-events.js';
import { resolveOptions, type ClusterClientOptions, type ResolvedOptions } from './options.js';
import type { NodeHandle } from './node/node-handle.js';
import { NodeRegistry } from './node/registry.js';
import { DedicatedRouter } from './router/dedicated.js';
import { Dispatcher } from './router/dispatch.js';
import { Executor } from './router/executor.js';
import { classify, isUnknownCommandReply } from './router/redirect.js';
import { createAddressMapper } from './topology/address-map.js';
import type { NodeAnswer } from './topology/consensus.js';
import { parseClusterShards, parseClusterSlots, parseCurrentEpoch } from './topology/parse.js';
import type { TopologySnapshot } from './topology/snapshot.js';
import { Topology } from './topology/topology.js';

/** Lifecycle of a ClusterClient: `idle` until `connect()` (or the first command), then `connecting`, `ready`, and `closing`/`closed` after `quit()`/`disconnect()`. */
export type ClientStatus = 'idle' | 'connecting' | 'ready' | 'closing' | 'closed';

type Emit = <K extends keyof ClusterClientEvents>(event: K, ...args: ClusterClientEvents[K]) => boolean;

/**
 * The wiring behind one ClusterClient (internal): node registry, topology,
 * executor, dispatcher and dedicated-connection router built from one set of
 * options, plus the client's lifecycle (connect, quit, disconnect). The
 * facade in cluster-client.ts only adds the public API on top.
 */
export class ClientCore {
  readonly options: ResolvedOptions;
  readonly nodes: NodeRegistry;
  readonly topology: Topology;
  readonly executor: Executor;
  readonly dispatch: Dispatcher;
  readonly dedicated: DedicatedRouter;
  readonly #emit: Emit;
  readonly #hasErrorListener: () => boolean;
  #status: ClientStatus = 'idle';
  #connecting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(input: ClusterClientOptions, emit: Emit, hasErrorListener: () => boolean) {
    this.#emit = emit;
    this.#hasErrorListener = hasErrorListener;
    this.options = resolveOptions(input);
    this.nodes = new NodeRegistry(this.options, {
      onBreaker: (node, state) => {
        this.topology.setUnreachable(node.address, state !== 'closed');
        if (state === 'closed') this.executor.wakeParked();
        this.#emit('breaker', { address: node.address, state });
      },
      onConnectionFailure: (node) => this.topology.setUnreachable(node.address, true),
      onConnected: (node) => this.topology.setUnreachable(node.address, false),
    });
    this.topology = new Topology(this.options.rootNodes, {
      options: this.options,
      map: createAddressMapper(this.options.natMap),
      query: (address, host, port) => this.#query(address, host, port),
      isUnreachable: (address) => !(this.nodes.get(address)?.available ?? true),
      onSnapshot: (prev, next, reason) => this.#onSnapshot(prev, next, reason),
      onRefresh: (info) => {
        if (channels.topology.hasSubscribers) channels.topology.publish(info);
        if (info.error && this.#hasErrorListener()) this.#emit('error', info.error);
      },
    });
    this.executor = new Executor({
      options: this.options,
      topology: this.topology,
      nodes: this.nodes,
      onRedirect: (info) => this.#emit('redirect', info),
      wantsDiagnostics: () => channels.command.hasSubscribers,
      onSettled: (info) => channels.command.publish(info),
    });
    this.dedicated = new DedicatedRouter({ topology: this.topology, nodes: this.nodes, options: this.options });
    this.dispatch = new Dispatcher({
      execute: (name, args, opts, route) => this.executor.execute(name, args, opts, route),
      ready: this.ready,
      targets: (which) => this.liveNodes(which),
    });
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
      try {
        await this.topology.start();
        if (this.#status === 'connecting') this.#status = 'ready';
      } catch (err) {
        this.#connecting = undefined;
        if (this.#status === 'connecting') this.#status = 'idle';
        this.executor.failWaitingForTopology(err as Error);
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
      this.executor.close();
      await this.executor.drain();
      this.topology.stop();
      await this.nodes.closeAll(true);
      this.#status = 'closed';
    })();
    return this.#closing;
  }

  async disconnect(beforeClose: () => Promise<void>): Promise<void> {
    if (this.#status === 'closed') return;
    this.#status = 'closing';
    await beforeClose();
    this.executor.close(new ClientClosedError('The client was disconnected with commands pending'));
    this.topology.stop();
    await this.nodes.closeAll(false);
    this.#status = 'closed';
  }

  /** Handles of the map's nodes with a role (`'all'` for every node). */
  nodesOf(role: 'master' | 'replica' | 'all'): NodeHandle[] {
    const snap = this.topology.current;
    if (!snap) return [];
    return snap
      .nodes()
      .filter((n) => role === 'all' || n.role === role)
      .map((n) => this.nodes.getOrCreate(n.address, n.host, n.port, n.role));
  }

  /** Handles of the map's masters (one per shard) or of every node, skipping nodes marked failed. */
  liveNodes(which: 'masters' | 'all'): NodeHandle[] {
    const snap = this.topology.current;
    if (!snap) return [];
    const nodes = which === 'masters' ? snap.shards.map((s) => s.master) : snap.nodes();
    return nodes.filter((n) => n.health !== 'failed').map((n) => this.nodes.getOrCreate(n.address, n.host, n.port, n.role));
  }

  /** Patches the map after a MOVED seen outside the executor (pub/sub); returns the target, or undefined. `fromHost` (the node that answered) stands in for the empty host of `MOVED <slot> :<port>`. */
  followMoved(err: unknown, fromHost: string): { host: string; port: number; address: string } | undefined {
    const c = classify(err);
    return c.kind === 'moved' ? this.topology.followRedirect('moved', c.slot, c.host, c.port, fromHost) : undefined;
  }

  async #query(address: string, host: string, port: number): Promise<NodeAnswer> {
    const role = this.topology.current?.node(address)?.role ?? 'master';
    const node = this.nodes.getOrCreate(address, host, port, role);
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
    const removed = this.nodes.sync(next);
    for (const address of removed) this.#emit('node:removed', { address });
    if (prev === undefined || reason !== 'moved') {
      for (const n of next.nodes()) {
        if (!prev?.node(n.address)) this.#emit('node:added', { address: n.address, role: n.role });
      }
    }
    this.#emit('topology', next, prev, reason);
  }
}
