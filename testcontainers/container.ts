/**
 * `RedisClusterContainer`: the fluent builder, in the style of
 * testcontainers-node. Single-field checks happen in each `with…()` so the
 * stack points at the bad call; cross-field checks happen in `start()`.
 */
import { describeInput } from '../lib/core/arguments.js';
import { InvalidArgumentError, RedisServerNotFoundError } from '../lib/errors.js';
import type { NodeAuth } from './admin.js';
import { bootstrapCluster } from './bootstrap.js';
import { EngineContext } from './context.js';
import { detectContainerRuntime } from './docker.js';
import { DEFAULT_REDIS_IMAGE } from './docker-node.js';
import type { PortPolicy } from './ports.js';
import { findRedisServer } from './redis-binary.js';
import { StartedRedisCluster } from './started-cluster.js';
import { checkZooKeeperTarget, ZooKeeperPublisher, type ZooKeeperTarget } from './zookeeper-publisher.js';
import { generateTlsMaterial, writeTlsMaterial } from './tls.js';

/** Options of `withTls()`. */
export interface ClusterTlsOptions {
  /**
   * Require a client certificate signed by the cluster's CA
   * (`tls-auth-clients yes`). @default false
   */
  readonly mutual?: boolean;
  /**
   * Extra names or IPs the node certificate covers, besides every loopback
   * address a node may bind (127.0.0.1 … 127.0.0.254), ::1, localhost and,
   * with `withHostnames(domain)`, `*.domain`. @default []
   */
  readonly hosts?: readonly string[];
}

/** Where nodes run. */
export type ClusterRuntime = 'process' | 'docker' | 'auto';

/**
 * Container networking. `host`: containers share this machine's network
 * (Linux engines only). `bridge`: a private network per cluster, client ports
 * published on 127.0.0.1, clients need `getNatMap()`. `auto`: host on Linux,
 * bridge elsewhere (Docker Desktop has no host networking).
 */
export type ContainerNetworkMode = 'host' | 'bridge' | 'auto';

const HOSTNAME_RE = /^(?=.{1,200}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/** Defaults of every builder option. */
export const CLUSTER_DEFAULTS = {
  masters: 3,
  replicasPerMaster: 1,
  /**
   * 2 s instead of Redis' 15 s: failover after a kill then takes 3.4–4.7 s in
   * our test logs, which keeps chaos tests short, and is still far above
   * scheduling hiccups on a busy 2-core machine (a timeout near them would make
   * nodes flag each other as failed spuriously).
   */
  nodeTimeoutMs: 2_000,
  appendOnly: false,
  startupTimeoutMs: 60_000,
  runtime: 'process',
  networkMode: 'auto',
} as const satisfies Record<string, unknown>;

const MAX_MASTERS = 100;
const MAX_REPLICAS = 5;
const PASSWORD_RE = /^[\x21-\x7e]+$/; // printable ASCII, no spaces: survives redis.conf, URLs and MIGRATE AUTH
const USERNAME_RE = /^[A-Za-z0-9._-]+$/;

/** The value as JSON for a message; never throws (BigInt, throwing toString, fake Buffers). */
function shown(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return describeInput(value);
  }
}

function int(name: string, value: unknown, min: number, max: number, expected: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(name, `${shown(value)} is not ${expected}`);
  }
  return value;
}

function portNumber(name: string, value: unknown): number {
  return int(name, value, 1024, 65_535, 'a port number between 1024 and 65535');
}

/**
 * Builder of a real Redis Cluster made of local `redis-server` processes.
 *
 * ```ts
 * const cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).start();
 * try { … cluster.getRootNodes() … } finally { await cluster.stop(); }
 * ```
 */
export class RedisClusterContainer {
  #masters: number = CLUSTER_DEFAULTS.masters;
  #replicas: number = CLUSTER_DEFAULTS.replicasPerMaster;
  #nodeTimeoutMs: number = CLUSTER_DEFAULTS.nodeTimeoutMs;
  #appendOnly: boolean = CLUSTER_DEFAULTS.appendOnly;
  #startupTimeoutMs: number = CLUSTER_DEFAULTS.startupTimeoutMs;
  #runtime: ClusterRuntime = CLUSTER_DEFAULTS.runtime;
  #auth: NodeAuth | undefined;
  #ports: PortPolicy = { kind: 'auto' };
  #bin: string | undefined;
  #image = DEFAULT_REDIS_IMAGE;
  #network: ContainerNetworkMode = CLUSTER_DEFAULTS.networkMode;
  #hostnameDomain: string | undefined;
  #zooKeeper: ZooKeeperTarget | undefined;
  #tls: { mutual: boolean; hosts: readonly string[] } | undefined;

  /** Number of masters; slots are split evenly between them. Redis Cluster itself accepts 1. @default 3 */
  withMasters(count: number): this {
    this.#masters = int('masters', count, 1, MAX_MASTERS, `an integer from 1 to ${MAX_MASTERS}`);
    return this;
  }

  /** Replicas per master (0 = no failover possible). @default 1 */
  withReplicasPerMaster(count: number): this {
    this.#replicas = int('replicasPerMaster', count, 0, MAX_REPLICAS, `an integer from 0 to ${MAX_REPLICAS}`);
    return this;
  }

  /** `cluster-node-timeout`: how long a node may be unreachable before it is failed over. @default 2000 */
  withNodeTimeoutMs(ms: number): this {
    this.#nodeTimeoutMs = int('nodeTimeoutMs', ms, 100, 600_000, 'an integer number of milliseconds from 100 to 600000');
    return this;
  }

  /**
   * Require a password (`requirepass` + `masterauth`), or with `username` an
   * ACL user with all permissions (the default user is disabled).
   * @default no authentication
   */
  withPassword(password: string, username?: string): this {
    if (typeof password !== 'string' || !PASSWORD_RE.test(password)) {
      throw new InvalidArgumentError('password', 'expected a non-empty string of printable ASCII characters without spaces');
    }
    if (username !== undefined && (typeof username !== 'string' || !USERNAME_RE.test(username) || username === 'default')) {
      throw new InvalidArgumentError('username', `${shown(username)} is not a valid ACL user name (letters, digits, . _ -; not "default")`);
    }
    this.#auth = username === undefined ? { password } : { username, password };
    return this;
  }

  /** An ACL user instead of `requirepass`; same as `withPassword(password, username)`. */
  withUser(username: string, password: string): this {
    if (typeof username !== 'string') throw new InvalidArgumentError('username', 'expected a string');
    return this.withPassword(password, username);
  }

  /**
   * TLS-only nodes: a throwaway CA plus node and client certificates are
   * generated at `start()`; every node closes its plaintext port and speaks
   * TLS to clients, on the cluster bus and for replication. The engine's own
   * connections use TLS too, so every fault works as without it. Clients get
   * their options from `cluster.getTlsOptions()` (or `getClientOptions().tls`).
   * Works for process and container nodes (the files are placed in each
   * container's mounted data dir).
   * @default plaintext
   */
  withTls(options: ClusterTlsOptions = {}): this {
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('tls', 'expected an object such as { mutual: true }');
    const mutual = options.mutual ?? false;
    if (typeof mutual !== 'boolean') throw new InvalidArgumentError('tls.mutual', `expected true or false, got ${JSON.stringify(mutual)}`);
    const hosts = options.hosts ?? [];
    if (!Array.isArray(hosts) || hosts.some((h) => typeof h !== 'string' || !/^[A-Za-z0-9.:*-]+$/.test(h))) {
      throw new InvalidArgumentError('tls.hosts', 'expected an array of host names or IP addresses');
    }
    this.#tls = { mutual, hosts: [...hosts] };
    return this;
  }

  /**
   * Turn on `appendonly yes` (`appendfsync everysec`), so data survives
   * `restartNode()` and `restartNodeWithNewIp()` like a pod's persistent volume.
   * Without it a master restarted before its replica takes over comes back
   * empty and its replica resyncs from it, losing the shard's data (as Redis does).
   * @default false
   */
  withAppendOnly(enabled = true): this {
    if (typeof enabled !== 'boolean') throw new InvalidArgumentError('appendOnly', 'expected a boolean');
    this.#appendOnly = enabled;
    return this;
  }

  /**
   * Take client and bus ports only from `[from, to]` (inclusive); each node
   * needs two. @default any free port the OS offers
   */
  withPortRange(from: number, to: number): this {
    portNumber('portRange.from', from);
    portNumber('portRange.to', to);
    if (to < from) throw new InvalidArgumentError('portRange', `${from}-${to} is empty; expected from <= to`);
    this.#ports = { kind: 'range', from, to };
    return this;
  }

  /**
   * Fixed, consecutive ports like a hand-made cluster: node i listens on
   * `port + i` and its bus on `port + i + 10000`. Fails if one is taken.
   * @default any free port the OS offers
   */
  withBasePort(port: number): this {
    portNumber('basePort', port);
    if (port + 10_000 > 65_535) throw new InvalidArgumentError('basePort', `${port} + 10000 (bus port) is above 65535; expected at most 55535`);
    this.#ports = { kind: 'fixed', base: port };
    return this;
  }

  /** Use this `redis-server` binary. @default REDIS_SERVER_BIN, then PATH, then /usr/bin, /usr/local/bin */
  withRedisServerBin(path: string): this {
    if (typeof path !== 'string' || path === '') throw new InvalidArgumentError('redisServerBin', 'expected a non-empty path');
    this.#bin = path;
    return this;
  }

  /** Bound for one node's start and for the first health wait. @default 60000 */
  withStartupTimeoutMs(ms: number): this {
    this.#startupTimeoutMs = int('startupTimeoutMs', ms, 1_000, 600_000, 'an integer number of milliseconds from 1000 to 600000');
    return this;
  }

  /**
   * `process` runs local redis-server processes; `docker` runs each node in a
   * container (`withImage()`, network per `withNetworkMode()`); `auto` uses a
   * local redis-server when there is one, else containers when a runtime is
   * reachable. @default 'process'
   */
  withRuntime(runtime: ClusterRuntime): this {
    if (runtime !== 'process' && runtime !== 'docker' && runtime !== 'auto') {
      throw new InvalidArgumentError('runtime', `${shown(runtime)} is not 'process', 'docker' or 'auto'`);
    }
    this.#runtime = runtime;
    return this;
  }

  /** Container networking, see {@link ContainerNetworkMode}. @default 'auto' (host on Linux, bridge elsewhere) */
  withNetworkMode(mode: ContainerNetworkMode): this {
    if (mode !== 'host' && mode !== 'bridge' && mode !== 'auto') {
      throw new InvalidArgumentError('networkMode', `${JSON.stringify(mode)} is not 'host', 'bridge' or 'auto'`);
    }
    this.#network = mode;
    return this;
  }

  /**
   * Nodes announce a stable name, `node-<i>.<domain>`
   * (`cluster-announce-hostname`), as their preferred endpoint
   * (`cluster-preferred-endpoint-type hostname`), like StatefulSet pods behind a
   * headless Service. Clients then route by name: give them
   * `cluster.getClientOptions()` (its `dnsLookup` resolves the names; nothing
   * is written to /etc/hosts and no DNS server is asked).
   * @default off (nodes announce IPs)
   */
  withHostnames(domain = 'redis.slotwise.test'): this {
    if (typeof domain !== 'string' || !HOSTNAME_RE.test(domain)) {
      throw new InvalidArgumentError('hostnames', `${JSON.stringify(domain)} is not a DNS domain (lower-case labels of letters, digits and '-', dot-separated)`);
    }
    this.#hostnameDomain = domain;
    return this;
  }

  /**
   * Image for container nodes (`withRuntime('docker')`). When absent locally it
   * is pulled — except `LOCAL_REDIS_IMAGE`, which is built from the local
   * redis-server (no registry needed). @default 'redis:7.2'
   */
  withImage(image: string): this {
    if (typeof image !== 'string' || image.trim() === '') throw new InvalidArgumentError('image', 'expected a non-empty image name such as "redis:7.2"');
    this.#image = image;
    return this;
  }

  /**
   * Publish the cluster's nodes to the znode `path` of the ZooKeeper at
   * `connect` (`"host:port[,…]"`), as the nodes document `zooKeeperDiscovery()`
   * reads, and keep it current after every kill, restart, failover, add and
   * remove this engine performs. Needs the optional `node-zookeeper-client`.
   * @default off
   */
  withZooKeeper(connect: string, path: string): this {
    this.#zooKeeper = checkZooKeeperTarget(connect, path);
    return this;
  }

  /**
   * `process`: local redis-server (error with install instructions when none);
   * `docker`: containers, error when no runtime is reachable; `auto`: a local
   * redis-server when there is one, else containers when a runtime is reachable.
   */
  async #resolveRuntime(): Promise<{ runtime: 'process' | 'docker'; bin: string }> {
    if (this.#runtime === 'docker') return { runtime: 'docker', bin: await this.#requireDocker() };
    try {
      return { runtime: 'process', bin: (await findRedisServer(this.#bin)).path };
    } catch (err) {
      if (this.#runtime !== 'auto' || !(err instanceof RedisServerNotFoundError)) throw err;
      const rt = await detectContainerRuntime();
      if (!rt.available) throw new RedisServerNotFoundError(`${err.message}
(runtime 'auto': no container runtime either — ${rt.reason})`);
      return { runtime: 'docker', bin: '' };
    }
  }

  async #requireDocker(): Promise<string> {
    const rt = await detectContainerRuntime();
    if (!rt.available) throw new InvalidArgumentError('runtime', `'docker': no container runtime is reachable (${rt.reason}); use 'process'`);
    if (this.#network === 'host' && process.platform !== 'linux') {
      throw new InvalidArgumentError('networkMode', `'host' networking exists only on Linux Docker engines; use 'bridge' (or 'auto')`);
    }
    return this.#bin ?? '';
  }

  /** Number of nodes `start()` will run. */
  get nodeCount(): number {
    return this.#masters * (1 + this.#replicas);
  }

  #validate(): void {
    const nodes = this.nodeCount;
    if (this.#ports.kind === 'range') {
      const available = this.#ports.to - this.#ports.from + 1;
      if (available < 2 * nodes) {
        throw new InvalidArgumentError(
          'portRange',
          `${this.#ports.from}-${this.#ports.to} has ${available} ports, but ${this.#masters} masters × (1 + ${this.#replicas} replicas) = ${nodes} nodes need ${2 * nodes} (client + bus port each)`,
        );
      }
    }
    if (this.#ports.kind === 'fixed' && this.#ports.base + nodes - 1 + 10_000 > 65_535) {
      throw new InvalidArgumentError('basePort', `${this.#ports.base} leaves no room for ${nodes} nodes and their bus ports (port + 10000)`);
    }
  }

  /**
   * Starts the nodes, builds the cluster and returns once it is healthy
   * (typically 1–3 s for 3 × 1). On failure everything started is cleaned up.
   * @throws InvalidArgumentError for inconsistent options; RedisServerNotFoundError; ClusterEngineError.
   */
  async start(): Promise<StartedRedisCluster> {
    const requestedAt = Date.now();
    this.#validate();
    const { runtime, bin } = await this.#resolveRuntime();
    let tls;
    if (this.#tls !== undefined) {
      // Every loopback address a node may move to (127.0.0.1 … .254), and the announced names when hostnames are on.
      const loopback = Array.from({ length: 254 }, (_, i) => `127.0.0.${i + 1}`);
      const names = this.#hostnameDomain === undefined ? [] : [`*.${this.#hostnameDomain}`];
      const material = await generateTlsMaterial({ hosts: [...new Set([...loopback, '::1', 'localhost', ...names, ...this.#tls.hosts])] });
      tls = { mutual: this.#tls.mutual, material, files: writeTlsMaterial(material) };
    }
    const ctx = new EngineContext({
      masters: this.#masters,
      replicasPerMaster: this.#replicas,
      nodeTimeoutMs: this.#nodeTimeoutMs,
      appendOnly: this.#appendOnly,
      ports: this.#ports,
      bin,
      startupTimeoutMs: this.#startupTimeoutMs,
      runtime,
      network: this.#network === 'auto' ? (process.platform === 'linux' ? 'host' : 'bridge') : this.#network,
      image: this.#image,
      ...(this.#auth ? { auth: this.#auth } : {}),
      ...(this.#hostnameDomain !== undefined ? { hostnameDomain: this.#hostnameDomain } : {}),
      ...(tls ? { tls } : {}),
    });
    let publisher: ZooKeeperPublisher | undefined;
    try {
      await ctx.prepare();
      await bootstrapCluster(ctx);
      if (this.#zooKeeper) publisher = await ZooKeeperPublisher.open(this.#zooKeeper, this.#startupTimeoutMs);
    } catch (err) {
      await ctx.destroyAll();
      throw err;
    }
    const started = new StartedRedisCluster(ctx, requestedAt, publisher);
    if (publisher) {
      try {
        await started.publishNodes();
      } catch (err) {
        await started.stop();
        throw err;
      }
    }
    return started;
  }
}
