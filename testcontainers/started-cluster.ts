/**
 * The `ClusterClient` options that reach a started cluster (a subset of
 * `ClusterClientOptions`, written out here so the engine does not import the client).
 */
export interface EngineClientOptions {
  /** Every master's client address. */
  readonly rootNodes: HostPort[];
  /** ACL user, when the cluster was started with one. @default undefined */
  readonly username?: string;
  /** Password, when the cluster requires one. @default undefined */
  readonly password?: string;
  /** Announced address → address reachable from this machine (bridge networks). @default undefined (host networking: none needed) */
  readonly natMap?: (announced: HostPort) => HostPort | undefined;
  /** Resolves announced hostnames (hostname mode). @default undefined (nodes announce IPs) */
  readonly dnsLookup?: DnsLookup;
  /** CA, client certificate and key, when the cluster was started `withTls()`. @default undefined (plaintext cluster) */
  readonly tls?: TlsClientOptions;
}

/**
 * A running Redis Cluster made of redis-server processes this Node process
 * owns. Nodes are named by their client port everywhere.
 */
import { isIP } from 'node:net';
import { ClusterEngineError } from '../lib/errors.js';
import type { DnsLookup, HostPort } from '../lib/core/addresses.js';
import type { EngineContext } from './context.js';
import { rangesOf, slotOwners } from './cluster-state.js';
import * as faults from './faults.js';
import * as membership from './membership.js';
import { fixEngineOpenSlots, reshard } from './reshard.js';
import type { SlotFix } from './slot-repair.js';
import type { ZooKeeperPublisher } from './zookeeper-publisher.js';
import type { TlsClientOptions, TlsFiles } from './tls.js';
import type {
  AddedNode,
  ClusterNodeInfo,
  ConvergenceOptions,
  FailoverMode,
  FailoverReport,
  KillReport,
  MoveReport,
  NodeAddress,
  PauseReport,
  RecoverReport,
  RemoveReport,
  ReshardOptions,
  ReshardReport,
} from './types.js';

/**
 * Handle of a started cluster; obtain one from `RedisClusterContainer.start()`.
 * Always `stop()` it (or declare it with `await using`): stop ends every
 * process and deletes every temp dir, also after faults.
 */
export class StartedRedisCluster implements AsyncDisposable {
  readonly #ctx: EngineContext;
  /** `Date.now()` when `start()` was called and when the cluster became healthy. */
  readonly startedAt: {
    /** `Date.now()` when `start()` was called. */
    readonly requestedAt: number;
    /** `Date.now()` when the cluster was healthy. */
    readonly healthyAt: number;
  };
  #stopping: Promise<void> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #publisher: ZooKeeperPublisher | undefined;
  #republishTimer: NodeJS.Timeout | undefined;
  #publishError: Error | undefined;

  /** @internal Use `RedisClusterContainer.start()`. */
  constructor(ctx: EngineContext, requestedAt: number, publisher?: ZooKeeperPublisher) {
    this.#ctx = ctx;
    this.startedAt = { requestedAt, healthyAt: Date.now() };
    this.#publisher = publisher;
  }

  /**
   * Writes the running nodes (masters and replicas that answer) to the
   * `withZooKeeper()` znode now. The engine already does this after each
   * change it makes; rejects when ZooKeeper cannot be written.
   */
  async publishNodes(): Promise<void> {
    const publisher = this.#publisher;
    if (publisher === undefined) throw new ClusterEngineError('publishNodes(): this cluster was started without withZooKeeper()');
    clearTimeout(this.#republishTimer);
    this.#republishTimer = undefined;
    const nodes = this.#ctx.live().map((n) => ({ host: n.proc.host, port: n.proc.port }));
    // No node answers (all killed or paused): an empty list would only be rejected by clients; keep the last one.
    if (nodes.length === 0) return;
    try {
      await publisher.publish(nodes);
      this.#publishError = undefined;
    } catch (err) {
      this.#publishError = err as Error;
      throw err;
    }
  }

  /** Why the last publication to ZooKeeper failed (it is retried every second), or undefined. */
  get zooKeeperError(): Error | undefined {
    return this.#publishError;
  }

  /** After a change of nodes: republish (best effort; a failure is retried in the background, never fails the change). */
  async #republishAfter<T>(op: Promise<T>): Promise<T> {
    if (this.#publisher === undefined) return op;
    const settle = () => this.publishNodes().catch(() => this.#retryPublish());
    try {
      const result = await op;
      await settle();
      return result;
    } catch (err) {
      await settle();
      throw err;
    }
  }

  #retryPublish(): void {
    if (this.#stopping || this.#republishTimer) return;
    this.#republishTimer = setTimeout(() => {
      this.#republishTimer = undefined;
      if (!this.#stopping) this.publishNodes().catch(() => this.#retryPublish());
    }, 1000);
    this.#republishTimer.unref();
  }

  /** Milliseconds `start()` took until the cluster was healthy. */
  get startupMs(): number {
    return this.startedAt.healthyAt - this.startedAt.requestedAt;
  }

  /** Node timeout the nodes run with (`cluster-node-timeout`). */
  get nodeTimeoutMs(): number {
    return this.#ctx.settings.nodeTimeoutMs;
  }

  /** Password (and ACL user) clients need, if any. */
  get auth(): {
    /** ACL user, when not `default`. */
    readonly username?: string;
    /** Its password. */
    readonly password: string;
  } | undefined {
    return this.#ctx.settings.auth;
  }

  /**
   * TLS options for clients of a cluster started `withTls()`: the CA (to
   * verify the nodes) and a client certificate + key signed by it (needed
   * when the cluster is mutual TLS). Pass them as `tls` to `ClusterClient`.
   * Undefined for a plaintext cluster.
   */
  getTlsOptions(): TlsClientOptions | undefined {
    return this.#ctx.clientTls;
  }

  /** Paths of the CA, node and client certificate files (for redis-cli and other tools); undefined without TLS. */
  getTlsFiles(): TlsFiles | undefined {
    return this.#ctx.settings.tls?.files;
  }

  /** True when the cluster requires a client certificate (`withTls({ mutual: true })`). */
  get mutualTls(): boolean {
    return this.#ctx.settings.tls?.mutual ?? false;
  }

  /**
   * Addresses to bootstrap a client from: the running masters as last seen by
   * the engine (after a failover the promoted replica). Synchronous.
   */
  getRootNodes(): NodeAddress[] {
    const up = this.#ctx.all().filter((n) => n.proc.state === 'up');
    const masters = up.filter((n) => n.role === 'master');
    return (masters.length > 0 ? masters : up).map((n) => ({ host: n.proc.host, port: n.proc.port }));
  }

  /** `host` when nodes run on the host's network (processes, host-network containers), `bridge` for a private container network. */
  get networkMode(): 'host' | 'bridge' {
    return this.#ctx.settings.runtime === 'docker' ? this.#ctx.settings.network : 'host';
  }

  /**
   * The address map clients on this machine need, or undefined when the
   * announced addresses are reachable as they are. On a bridge network nodes
   * announce their container IP (and, with `withHostnames()`, their name);
   * this machine reaches node `port` only at `127.0.0.1:port`. The map is
   * live: it follows nodes added later and IPs that change.
   */
  getNatMap(): ((announced: HostPort) => HostPort | undefined) | undefined {
    if (this.networkMode !== 'bridge') return undefined;
    const ctx = this.#ctx;
    return (announced) => {
      const node = ctx.all().find((n) => n.proc.port === announced.port);
      return node === undefined ? undefined : { host: node.proc.host, port: node.proc.port };
    };
  }

  /**
   * With `withHostnames()` on the host network: resolves the names nodes
   * announce to their current loopback address (ioredis' `dnsLookup` shape),
   * so tests never need /etc/hosts. Unknown names fail with ENOTFOUND; the
   * system resolver is never asked. Undefined when nodes announce no names
   * or a natMap already routes them (bridge network).
   */
  getDnsLookup(): DnsLookup | undefined {
    if (this.#ctx.settings.hostnameDomain === undefined || this.networkMode === 'bridge') return undefined;
    const ctx = this.#ctx;
    return (hostname, callback) => {
      const node = ctx.all().find((n) => n.hostname === hostname);
      if (node === undefined) {
        const err: NodeJS.ErrnoException = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
        queueMicrotask(() => callback(err, ''));
        return;
      }
      const address = node.proc.host;
      queueMicrotask(() => callback(null, address, isIP(address)));
    };
  }

  /**
   * What a `ClusterClient` on this machine needs to reach this cluster: root
   * nodes, credentials, and the natMap / dnsLookup the network mode calls for.
   * `new ClusterClient({ ...cluster.getClientOptions(), commandTimeoutMs: 8000 })`.
   */
  getClientOptions(): EngineClientOptions {
    const auth = this.#ctx.settings.auth;
    const natMap = this.getNatMap();
    const dnsLookup = this.getDnsLookup();
    const tls = this.getTlsOptions();
    return {
      rootNodes: this.getRootNodes(),
      ...(auth?.username !== undefined ? { username: auth.username } : {}),
      ...(auth !== undefined ? { password: auth.password } : {}),
      ...(natMap !== undefined ? { natMap } : {}),
      ...(dnsLookup !== undefined ? { dnsLookup } : {}),
      ...(tls !== undefined ? { tls } : {}),
    };
  }

  /** Client ports of every node not removed, in creation order. */
  getPorts(): number[] {
    return this.#ctx.all().map((n) => n.proc.port);
  }

  /** `redis://[user:password@]127.0.0.1:port` (`rediss://` with TLS) for each root node. */
  getConnectionUrls(): string[] {
    const auth = this.#ctx.settings.auth;
    const cred =
      auth === undefined ? '' : `${encodeURIComponent(auth.username ?? '')}:${encodeURIComponent(auth.password)}@`;
    const scheme = this.#ctx.settings.tls === undefined ? 'redis' : 'rediss';
    return this.getRootNodes().map((n) => `${scheme}://${cred}${n.host}:${n.port}`);
  }

  /**
   * Every node as the cluster reports it now (asked live from a running node),
   * joined with what the engine knows (pid, state). Killed nodes are included
   * with `state: 'killed'` and `pid: null`. Order: masters by their first slot,
   * each followed by its replicas.
   */
  async getNodes(): Promise<ClusterNodeInfo[]> {
    const ctx = this.#ctx;
    const view = await ctx.anyView();
    const owners = slotOwners(view);
    const infos = ctx.all().map((n): ClusterNodeInfo => {
      const e = view.find((v) => v.id === n.id);
      const role = e?.role ?? n.role;
      const masterId = e?.masterId ?? null;
      return {
        id: n.id,
        host: n.proc.host,
        port: n.proc.port,
        busPort: n.proc.busPort,
        announcedIp: n.proc.announcedIp,
        ...(n.hostname !== undefined ? { hostname: n.hostname } : {}),
        role,
        masterId,
        masterPort: masterId === null ? null : (ctx.byId(masterId)?.proc.port ?? null),
        slots: role === 'master' ? rangesOf(owners, n.id) : [],
        pid: n.proc.pid ?? null,
        state: n.proc.state,
        flags: e?.flags.filter((f) => f !== 'myself') ?? [],
      };
    });
    // Masters by their first slot, each followed by its replicas; then anything else.
    const firstSlot = (n: ClusterNodeInfo) => n.slots[0]?.[0] ?? 16384;
    const masters = infos.filter((n) => n.role === 'master').sort((a, b) => firstSlot(a) - firstSlot(b) || a.port - b.port);
    const ordered = masters.flatMap((m) => [m, ...infos.filter((r) => r.masterId === m.id).sort((a, b) => a.port - b.port)]);
    return [...ordered, ...infos.filter((n) => !ordered.includes(n))];
  }

  /**
   * Waits until every running node says `cluster_state:ok`, all 16384 slots
   * are covered by running masters, every node reports the same slot map and
   * roles, no slot is mid-migration and every replica's link is up.
   * @param options.timeoutMs @default 30000 + 3 × nodeTimeoutMs
   * @throws ClusterEngineError listing what was still wrong.
   */
  async waitForHealthy(options: { timeoutMs?: number } = {}): Promise<void> {
    await this.#ctx.waitForHealthy(options.timeoutMs ?? this.#ctx.defaultTimeoutMs);
  }

  /** Current problems (empty array = healthy), without waiting. */
  async healthProblems(): Promise<string[]> {
    return this.#ctx.healthProblems();
  }

  /** SIGKILLs a node. See {@link KillReport}; waits for failover/convergence unless told not to. */
  killNode(port: number, options?: ConvergenceOptions): Promise<KillReport> {
    return this.#republishAfter(faults.killNode(this.#ctx, port, options));
  }

  /** SIGSTOPs a node and returns at once. */
  async pauseNode(port: number): Promise<PauseReport> {
    return this.#republishAfter(faults.pauseNode(this.#ctx, port));
  }

  /** SIGCONTs a paused node; waits until the cluster is healthy again. */
  resumeNode(port: number, options?: ConvergenceOptions): Promise<RecoverReport> {
    return this.#republishAfter(faults.resumeNode(this.#ctx, port, options));
  }

  /** Crash-restarts a node (SIGKILL if running, then start with the same port, dir and node id). */
  restartNode(port: number, options?: ConvergenceOptions): Promise<RecoverReport> {
    return this.#republishAfter(faults.restartNode(this.#ctx, port, options));
  }

  /**
   * The Kubernetes pod restart: crash-restarts a node on an IP it never had,
   * with the same data and node id (next loopback alias for processes; a new
   * container with a new IP on a bridge network). Waits until every node lists
   * the new IP and the cluster is healthy. A master that was failed over
   * meanwhile comes back as a replica. The node keeps its data only with
   * `withAppendOnly()` (a pod with a volume): without it a master that is back
   * before its replica takes over resumes empty, and its replica resyncs from it.
   */
  restartNodeWithNewIp(port: number, options?: ConvergenceOptions): Promise<MoveReport> {
    return this.#republishAfter(faults.restartNodeWithNewIp(this.#ctx, port, options));
  }

  /** `CLUSTER FAILOVER [FORCE|TAKEOVER]` on a replica; waits until it is master everywhere. */
  failover(replicaPort: number, options?: { mode?: FailoverMode; timeoutMs?: number }): Promise<FailoverReport> {
    return this.#republishAfter(faults.failover(this.#ctx, replicaPort, options));
  }

  /** Live migration of slots between two masters (IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE). */
  reshard(options: ReshardOptions): Promise<ReshardReport> {
    return this.#serial(() => reshard(this.#ctx, options));
  }

  /**
   * Closes every open slot (IMPORTING/MIGRATING left behind, e.g. by a
   * failover mid-migration) the way `redis-cli --cluster fix` does, then
   * waits until the cluster is healthy. Runs in the queue of topology
   * changes, so never in the middle of this engine's own reshard.
   * @returns what was done per slot (empty when nothing was open).
   */
  fixOpenSlots(options: { timeoutMs?: number } = {}): Promise<SlotFix[]> {
    return this.#serial(() => fixEngineOpenSlots(this.#ctx, options.timeoutMs));
  }

  /** Adds an empty master (no slots until you reshard to it). */
  addMaster(): Promise<AddedNode> {
    return this.#republishAfter(this.#serial(() => membership.addMaster(this.#ctx)));
  }

  /** Adds a replica of the master on `masterPort`; returns once it is in sync. */
  addReplica(masterPort: number): Promise<AddedNode> {
    return this.#republishAfter(this.#serial(() => membership.addReplica(this.#ctx, masterPort)));
  }

  /** Empties (if a master), forgets and ends a node; its replicas move to another master. */
  removeNode(port: number): Promise<RemoveReport> {
    return this.#republishAfter(this.#serial(() => membership.removeNode(this.#ctx, port)));
  }

  /**
   * Ends every process (SIGKILL, then waits for each exit), deletes every temp
   * dir and closes admin connections. Idempotent; safe after any fault.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      clearTimeout(this.#republishTimer);
      await this.#publisher?.close();
      await this.#ctx.destroyAll();
    })();
    return this.#stopping;
  }

  /** `await using cluster = await new RedisClusterContainer().start()` stops it at scope end. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /**
   * Topology changes (reshard, add, remove) run one at a time: two overlapping
   * reshards would corrupt each other. Faults are not queued, so a test can
   * kill or pause a node while a reshard runs.
   */
  #serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(op, op);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
