import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { parseAddress, type DnsLookup, type HostPort, type NodeAddress } from './core/addresses.js';
import { describe } from './core/describe.js';
import { InvalidArgumentError } from './errors.js';
import type { DiscoveryProvider } from './discovery/provider.js';
import type { ConfigSource } from './config/config-source.js';
import { resolveCacheOptions, type ClientSideCacheOptions, type ResolvedCacheOptions } from './cache/options.js';

export type { DnsLookup, HostPort, NodeAddress } from './core/addresses.js';

/**
 * Maps the addresses the cluster announces to the addresses this process can
 * reach (NAT, containers, Kubernetes). An object keyed by `host:port`, or a
 * function; returning undefined keeps the announced address.
 */
export type AddressMap = Readonly<Record<string, HostPort>> | ((announced: HostPort) => HostPort | undefined);


/** A node as seen by a `readFrom` function. */
export interface ReadCandidate {
  /** `host:port` of the node. */
  readonly address: string;
  /** Whether it is the shard's master or a replica. */
  readonly role: 'master' | 'replica';
  /** Latency EWMA in ms, or undefined before the first measured reply. */
  readonly latencyMs: number | undefined;
  /** False when the topology marks it failed/loading or its breaker is open. */
  readonly healthy: boolean;
}

/** Where read-only commands go. Writes always go to the slot's master. */
export type ReadFrom =
  | 'master'
  | 'replicaPreferred'
  | 'replica'
  | 'nearest'
  | ((candidates: readonly ReadCandidate[], slot: number) => ReadCandidate | undefined);

/** Credentials for one new connection, from `credentialsProvider`. */
export interface Credentials {
  /** ACL user; the `default` user when omitted. */
  readonly username?: string;
  /** The password or token to AUTH with. */
  readonly password: string;
}

/**
 * TLS options for node connections: an object, or a function called for
 * every NEW connection (so rotated certificates are picked up without a
 * restart; live connections keep the certificate they were opened with).
 */
export type TlsSource = TlsOptions | (() => TlsOptions | Promise<TlsOptions>);

/** Per-node circuit breaker settings. */
export interface CircuitBreakerOptions {
  /** Turn the breaker on. @default true */
  enabled?: boolean;
  /** Consecutive connection failures or timeouts on a node that open its breaker. @default 5 */
  failureThreshold?: number;
  /** How long an open breaker waits before one half-open probe (PING). @default 1000 */
  resetTimeoutMs?: number;
  /** Deadline of the half-open probe. @default 500 */
  probeTimeoutMs?: number;
  /**
   * When true, a command whose node has an open breaker fails at once with
   * `CircuitOpenError`. When false, it waits — sending nothing to that node —
   * for a failover to move its slot or the breaker to close, until its
   * deadline; if the deadline passes first it fails with `CircuitOpenError`.
   * @default false
   */
  failFast?: boolean;
}

/** Per-node pool of dedicated connections (blocking commands, transactions, `withConnection`). */
export interface PoolOptions {
  /** Connections kept open per node even when idle. @default 0 */
  min?: number;
  /** Most dedicated connections per node. @default 16 */
  max?: number;
  /** How long an acquire waits for a free connection before failing with PoolError. @default 2000 */
  acquireTimeoutMs?: number;
  /** Idle time after which a connection above `min` is closed. @default 30000 */
  idleTimeoutMs?: number;
}

/** The `telemetry` option: which OpenTelemetry signals the client reports. */
export interface TelemetryOptions {
  /**
   * A CLIENT span per command, pipeline and transaction when
   * `@opentelemetry/api` is installed and an SDK registered a tracer provider.
   * @default true
   */
  tracing?: boolean;
  /**
   * OpenTelemetry metrics (`db.client.operation.duration` and the
   * `slotwise.client.*` instruments) when `@opentelemetry/api` is installed
   * and a meter provider was registered before `connect()`.
   * @default true
   */
  metrics?: boolean;
}

/** Options of `new ClusterClient(options)`. */
export interface ClusterClientOptions {
  /**
   * Seed nodes used to discover the cluster. At least one, unless `discovery`
   * provides them. @default [] (only with `discovery`)
   */
  rootNodes?: readonly NodeAddress[];
  /**
   * Where to find the cluster's nodes instead of (or besides) `rootNodes`:
   * `zooKeeperDiscovery(store, path)`, `dnsSrvDiscovery({ name })` or your own
   * provider. Asked at connect and whenever every known node is unreachable;
   * its watch lets the client follow a cluster rebuilt on new addresses.
   * See docs/16-discovery.md. @default undefined (static `rootNodes`)
   */
  discovery?: DiscoveryProvider;
  /**
   * A configuration centre: live option changes (`readFrom`,
   * `commandTimeoutMs`, retry, breaker and pool settings) pushed by a source
   * such as `watchConfig(store, path)`, validated like constructor options;
   * an invalid document is ignored with an `error` event. See
   * docs/16-discovery.md#configuration-centre. @default undefined
   */
  config?: ConfigSource;
  /** ACL user sent to every node (not only root nodes). @default undefined */
  username?: string;
  /** Password sent to every node. @default undefined */
  password?: string;
  /**
   * Called for every new connection — multiplexed, pooled dedicated,
   * subscriber, replica — for the credentials to AUTH with; lets passwords or
   * tokens rotate without a restart (see `reauthenticate()` for live
   * connections). Replaces `username`/`password`. A WRONGPASS on connect
   * calls it once more, then fails with `AuthError`.
   * @default undefined
   */
  credentialsProvider?: () => Promise<Credentials>;
  /**
   * TLS for every node connection: `true` for Node's defaults (system CAs,
   * certificate and host name verified), TLS options (`ca`, `cert`, `key`,
   * `servername`, `checkServerIdentity`, …), or a function returning them,
   * called for every new connection so certificates can be reloaded.
   * Verification is on unless `rejectUnauthorized: false` is passed.
   * @default undefined (plaintext)
   */
  tls?: TlsSource | boolean;
  /** Connection name (CLIENT SETNAME) on every connection. @default 'slotwise' */
  connectionName?: string;
  /**
   * One deadline per command, covering every retry, redirect and wait.
   * @default 5000
   */
  commandTimeoutMs?: number;
  /** Deadline of one TCP/TLS connect + handshake to a node. @default 2000 */
  connectTimeoutMs?: number;
  /**
   * MOVED/ASK redirections one command follows back-to-back; a longer chain
   * (or a redirect cycle) is waited out with backoff, and only the command's
   * deadline ends it (MaxRedirectionsError / SlotMigrationStuckError). @default 16
   */
  maxRedirections?: number;
  /** First backoff delay between retries of one command (doubles, with jitter). @default 10 */
  retryBaseDelayMs?: number;
  /** Longest backoff delay between retries of one command. @default 250 */
  retryMaxDelayMs?: number;
  /**
   * Retry a non-idempotent write (INCR, LPUSH, …) whose bytes may have reached
   * a server before its connection died. Off by default: the write may have
   * been applied, and a retry could apply it twice.
   * @default false
   */
  retryMaybeSentWrites?: boolean;
  /** Where read-only commands go. @default 'master' */
  readFrom?: ReadFrom;
  /** Address translation for discovery and redirect targets. @default undefined */
  natMap?: AddressMap;
  /**
   * Resolves node hostnames (after `natMap`) on every connect, instead of the
   * system resolver (`dns.lookup`, which Node also calls on every connect).
   * IP addresses are never looked up. With TLS the server name stays the hostname.
   * @default undefined
   */
  dnsLookup?: DnsLookup;
  /** Periodic topology check interval; 0 turns it off. @default 5000 */
  topologyRefreshIntervalMs?: number;
  /**
   * Topology polling interval while some node of the map is unreachable, so a
   * failover is noticed within this long of the promotion.
   * @default 50
   */
  degradedRefreshIntervalMs?: number;
  /** Minimum gap between two refreshes triggered by redirects. @default 50 */
  minRefreshGapMs?: number;
  /** How many nodes are asked for their view in one topology refresh. @default 3 */
  topologySampleSize?: number;
  /** Deadline of one node's answer in a topology refresh. @default 1000 */
  topologyQueryTimeoutMs?: number;
  /**
   * Commands that may wait at once (before `connect()` completes, or for an
   * unreachable node); more fail with `QueueFullError`.
   * @default 10000
   */
  maxWaitingCommands?: number;
  /**
   * Batch the commands issued in one event-loop turn into one buffer and one
   * socket write per node; off, each command is written at once.
   * @default true
   */
  autoPipelining?: boolean;
  /** RESP protocol version spoken to every node. @default 3 */
  protocol?: 2 | 3;
  /** Per-node circuit breaker. @default {} (each field's own default) */
  circuitBreaker?: CircuitBreakerOptions;
  /** Per-node pool of dedicated connections. @default {} (each field's own default) */
  pool?: PoolOptions;
  /**
   * OpenTelemetry spans and metrics, reported when `@opentelemetry/api` is
   * installed and an SDK is registered (see docs/17-observability.md). Each
   * signal can be turned off.
   * @default { tracing: true, metrics: true }
   */
  telemetry?: TelemetryOptions;
  /**
   * Client-side caching of single-key reads, invalidated by the servers
   * (CLIENT TRACKING) and kept correct through reshards and failovers; see
   * docs/19-client-side-cache.md. Off unless given.
   * @default undefined
   */
  clientSideCache?: ClientSideCacheOptions;
}

/** Default of every option. */
export const DEFAULTS = {
  username: undefined,
  password: undefined,
  credentialsProvider: undefined,
  tls: undefined,
  connectionName: 'slotwise',
  commandTimeoutMs: 5000,
  connectTimeoutMs: 2000,
  maxRedirections: 16,
  retryBaseDelayMs: 10,
  retryMaxDelayMs: 250,
  retryMaybeSentWrites: false,
  readFrom: 'master',
  natMap: undefined,
  dnsLookup: undefined,
  topologyRefreshIntervalMs: 5000,
  degradedRefreshIntervalMs: 50,
  minRefreshGapMs: 50,
  topologySampleSize: 3,
  topologyQueryTimeoutMs: 1000,
  maxWaitingCommands: 10000,
  autoPipelining: true,
  protocol: 3,
  circuitBreaker: {
    enabled: true,
    failureThreshold: 5,
    resetTimeoutMs: 1000,
    probeTimeoutMs: 500,
    failFast: false,
  },
  pool: {
    min: 0,
    max: 16,
    acquireTimeoutMs: 2000,
    idleTimeoutMs: 30000,
  },
  telemetry: {
    tracing: true,
    metrics: true,
  },
  clientSideCache: undefined,
} as const satisfies Omit<Required<ClusterClientOptions>, 'rootNodes' | 'username' | 'password' | 'credentialsProvider' | 'tls' | 'natMap' | 'dnsLookup' | 'discovery' | 'config' | 'clientSideCache'> &
  Pick<ClusterClientOptions, 'username' | 'password' | 'credentialsProvider' | 'tls' | 'natMap' | 'dnsLookup' | 'clientSideCache'>;

/** Options after defaults, validation and parsing. Frozen. */
export interface ResolvedOptions
  extends Readonly<Omit<Required<ClusterClientOptions>, 'rootNodes' | 'circuitBreaker' | 'pool' | 'telemetry' | 'username' | 'password' | 'credentialsProvider' | 'tls' | 'natMap' | 'dnsLookup' | 'discovery' | 'config' | 'clientSideCache'>> {
  /** {@inheritDoc ClusterClientOptions.rootNodes} */
  readonly rootNodes: readonly HostPort[];
  /** {@inheritDoc ClusterClientOptions.discovery} */
  readonly discovery: DiscoveryProvider | undefined;
  /** {@inheritDoc ClusterClientOptions.config} */
  readonly config: ConfigSource | undefined;
  /** {@inheritDoc ClusterClientOptions.username} */
  readonly username: string | undefined;
  /** {@inheritDoc ClusterClientOptions.password} */
  readonly password: string | undefined;
  /** {@inheritDoc ClusterClientOptions.credentialsProvider} */
  readonly credentialsProvider: (() => Promise<Credentials>) | undefined;
  /** {@inheritDoc ClusterClientOptions.tls} */
  readonly tls: TlsSource | undefined;
  /** {@inheritDoc ClusterClientOptions.natMap} */
  readonly natMap: AddressMap | undefined;
  /** {@inheritDoc ClusterClientOptions.dnsLookup} */
  readonly dnsLookup: DnsLookup | undefined;
  /** {@inheritDoc ClusterClientOptions.circuitBreaker} */
  readonly circuitBreaker: Readonly<Required<CircuitBreakerOptions>>;
  /** {@inheritDoc ClusterClientOptions.pool} */
  readonly pool: Readonly<Required<PoolOptions>>;
  /** {@inheritDoc ClusterClientOptions.telemetry} */
  readonly telemetry: Readonly<Required<TelemetryOptions>>;
  /** The validated `clientSideCache` option; undefined when the cache is off. */
  readonly clientSideCache: ResolvedCacheOptions | undefined;
}

const KNOWN = new Set<string>([...Object.keys(DEFAULTS), 'rootNodes', 'discovery', 'config']);
const READ_FROM = new Set(['master', 'replicaPreferred', 'replica', 'nearest']);

/** Merges options over DEFAULTS, validates each (and across fields) and freezes. */
export function resolveOptions(input: ClusterClientOptions): ResolvedOptions {
  if (input === null || typeof input !== 'object') {
    throw new InvalidArgumentError('options', `expected an object with rootNodes, got ${describe(input)}`);
  }
  for (const key of Object.keys(input)) {
    if (!KNOWN.has(key)) throw new InvalidArgumentError(`option "${key}"`, `unknown option; known options: ${[...KNOWN].sort().join(', ')}`);
  }
  const o = { ...DEFAULTS, ...stripUndefined(input) } as Required<ClusterClientOptions>;
  const cb = nested<Required<CircuitBreakerOptions>>('circuitBreaker', DEFAULTS.circuitBreaker, input.circuitBreaker);
  const pool = nested<Required<PoolOptions>>('pool', DEFAULTS.pool, input.pool);
  const telemetry = nested<Required<TelemetryOptions>>('telemetry', DEFAULTS.telemetry, input.telemetry);

  checkSources(input);
  const seeds = input.rootNodes ?? [];
  if (!Array.isArray(seeds) || (seeds.length === 0 && input.discovery === undefined)) {
    throw new InvalidArgumentError('rootNodes', `expected a non-empty array of "host:port" strings or {host, port} (or a discovery provider), got ${describe(input.rootNodes)}`);
  }
  const rootNodes = seeds.map((n, i) => parseAddress(n, `rootNodes[${i}]`));

  int('commandTimeoutMs', o.commandTimeoutMs, 1, 3_600_000);
  int('connectTimeoutMs', o.connectTimeoutMs, 1, 600_000);
  int('maxRedirections', o.maxRedirections, 1, 1000);
  int('retryBaseDelayMs', o.retryBaseDelayMs, 0, 60_000);
  int('retryMaxDelayMs', o.retryMaxDelayMs, 0, 60_000);
  int('topologyRefreshIntervalMs', o.topologyRefreshIntervalMs, 0, 86_400_000);
  int('degradedRefreshIntervalMs', o.degradedRefreshIntervalMs, 10, 60_000);
  int('minRefreshGapMs', o.minRefreshGapMs, 0, 60_000);
  int('topologySampleSize', o.topologySampleSize, 1, 100);
  int('topologyQueryTimeoutMs', o.topologyQueryTimeoutMs, 1, 600_000);
  int('maxWaitingCommands', o.maxWaitingCommands, 0, 10_000_000);
  bool('retryMaybeSentWrites', o.retryMaybeSentWrites);
  bool('autoPipelining', o.autoPipelining);
  if (o.protocol !== 2 && o.protocol !== 3) throw new InvalidArgumentError('protocol', `expected 2 or 3, got ${describe(o.protocol)}`);
  if (typeof o.readFrom !== 'function' && !READ_FROM.has(o.readFrom as string)) {
    throw new InvalidArgumentError('readFrom', `expected one of ${[...READ_FROM].join(', ')} or a function, got ${describe(o.readFrom)}`);
  }
  if (o.retryMaxDelayMs < o.retryBaseDelayMs) {
    throw new InvalidArgumentError('retryMaxDelayMs', `must be ≥ retryBaseDelayMs (${o.retryBaseDelayMs}), got ${o.retryMaxDelayMs}`);
  }
  optionalString('username', o.username);
  optionalString('password', o.password);
  if (o.username !== undefined && o.password === undefined) {
    throw new InvalidArgumentError('username', 'an ACL username needs a password as well');
  }
  if (o.credentialsProvider !== undefined) {
    if (typeof o.credentialsProvider !== 'function') {
      throw new InvalidArgumentError('credentialsProvider', `expected a function returning a Promise of { username?, password }, got ${describe(o.credentialsProvider)}`);
    }
    if (o.username !== undefined || o.password !== undefined) {
      throw new InvalidArgumentError('credentialsProvider', 'give either credentialsProvider or username/password, not both');
    }
  }
  if (typeof o.connectionName !== 'string' || /\s/.test(o.connectionName)) {
    throw new InvalidArgumentError('connectionName', `expected a string without spaces, got ${describe(o.connectionName)}`);
  }
  if (o.natMap !== undefined && typeof o.natMap !== 'function' && (typeof o.natMap !== 'object' || o.natMap === null)) {
    throw new InvalidArgumentError('natMap', `expected an object keyed by "host:port" or a function, got ${describe(o.natMap)}`);
  }
  if (o.dnsLookup !== undefined && typeof o.dnsLookup !== 'function') {
    throw new InvalidArgumentError('dnsLookup', `expected a function (hostname, callback) like dns.lookup, got ${describe(o.dnsLookup)}`);
  }
  if (o.tls !== undefined && typeof o.tls !== 'boolean' && typeof o.tls !== 'function' && (typeof o.tls !== 'object' || o.tls === null)) {
    throw new InvalidArgumentError('tls', `expected true, TLS connection options or a function returning them, got ${describe(o.tls)}`);
  }
  bool('circuitBreaker.enabled', cb.enabled);
  bool('circuitBreaker.failFast', cb.failFast);
  int('circuitBreaker.failureThreshold', cb.failureThreshold, 1, 1_000_000);
  int('circuitBreaker.resetTimeoutMs', cb.resetTimeoutMs, 1, 3_600_000);
  int('circuitBreaker.probeTimeoutMs', cb.probeTimeoutMs, 1, 600_000);
  int('pool.min', pool.min, 0, 1000);
  int('pool.max', pool.max, 1, 10_000);
  int('pool.acquireTimeoutMs', pool.acquireTimeoutMs, 1, 3_600_000);
  int('pool.idleTimeoutMs', pool.idleTimeoutMs, 1, 86_400_000);
  bool('telemetry.tracing', telemetry.tracing);
  bool('telemetry.metrics', telemetry.metrics);
  if (pool.min > pool.max) throw new InvalidArgumentError('pool.min', `must be ≤ pool.max (${pool.max}), got ${pool.min}`);

  return Object.freeze({
    ...o,
    rootNodes: Object.freeze(rootNodes),
    tls: o.tls === true ? {} : o.tls === false ? undefined : o.tls,
    circuitBreaker: Object.freeze(cb),
    pool: Object.freeze(pool),
    telemetry: Object.freeze(telemetry),
    clientSideCache: resolveCacheOptions(input.clientSideCache),
  }) as ResolvedOptions;
}

/** `discovery` and `config` must be provider objects (checked by shape: they may come from any package). */
function checkSources(input: ClusterClientOptions): void {
  const d = input.discovery as unknown;
  if (d !== undefined && (d === null || typeof d !== 'object' || typeof (d as DiscoveryProvider).resolve !== 'function')) {
    throw new InvalidArgumentError('discovery', `expected a provider with resolve() (zooKeeperDiscovery(), dnsSrvDiscovery()), got ${describe(d)}`);
  }
  const c = input.config as unknown;
  if (c !== undefined && (c === null || typeof c !== 'object' || typeof (c as ConfigSource).watch !== 'function')) {
    throw new InvalidArgumentError('config', `expected a source with watch() (watchConfig()), got ${describe(c)}`);
  }
}

/** Merges a nested option group over its defaults, rejecting unknown keys. */
function nested<T extends object>(group: string, defaults: T, input: Partial<T> | undefined): T {
  if (input !== undefined && (input === null || typeof input !== 'object')) {
    throw new InvalidArgumentError(group, `expected an object, got ${describe(input)}`);
  }
  for (const key of Object.keys(input ?? {})) {
    if (!(key in defaults)) {
      throw new InvalidArgumentError(`option "${group}.${key}"`, `unknown option; known: ${Object.keys(defaults).join(', ')}`);
    }
  }
  return { ...defaults, ...stripUndefined(input ?? {}) } as T;
}

function int(name: string, v: unknown, min: number, max: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(name, `expected an integer from ${min} to ${max}, got ${describe(v)}`);
  }
}

function bool(name: string, v: unknown): void {
  if (typeof v !== 'boolean') throw new InvalidArgumentError(name, `expected true or false, got ${describe(v)}`);
}

function optionalString(name: string, v: unknown): void {
  if (v !== undefined && (typeof v !== 'string' || v.length === 0)) {
    throw new InvalidArgumentError(name, `expected a non-empty string, got ${describe(v)}`);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
