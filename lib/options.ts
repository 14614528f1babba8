import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { parseAddress, type DnsLookup, type HostPort, type NodeAddress } from './core/addresses.js';
import { describe } from './core/describe.js';
import { InvalidArgumentError } from './errors.js';
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
  readonly address: string;
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

/** Options of `new ClusterClient(options)`. */
export interface ClusterClientOptions {
  /** Seed nodes used to discover the cluster. At least one. */
  rootNodes: readonly NodeAddress[];
  /** ACL user sent to every node (not only root nodes). @default undefined */
  username?: string;
  /** Password sent to every node. @default undefined */
  password?: string;
  /** TLS options for every node connection; `true` for defaults. @default undefined */
  tls?: TlsOptions | boolean;
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
  /** Batch commands issued in one tick into one socket write per node. @default true */
  autoPipelining?: boolean;
  /** RESP protocol version spoken to every node. @default 3 */
  protocol?: 2 | 3;
  /** Per-node circuit breaker. */
  circuitBreaker?: CircuitBreakerOptions;
  /** Per-node pool of dedicated connections. */
  pool?: PoolOptions;
  /**
   * Client-side caching of single-key reads, invalidated by the servers
   * (CLIENT TRACKING) and kept correct through reshards and failovers; see
   * docs/15-client-side-cache.md. Off unless given.
   * @default undefined
   */
  clientSideCache?: ClientSideCacheOptions;
}

/** Default of every option. */
export const DEFAULTS = {
  username: undefined,
  password: undefined,
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
  clientSideCache: undefined,
} as const satisfies Omit<Required<ClusterClientOptions>, 'rootNodes' | 'username' | 'password' | 'tls' | 'natMap' | 'dnsLookup' | 'clientSideCache'> &
  Pick<ClusterClientOptions, 'username' | 'password' | 'tls' | 'natMap' | 'dnsLookup' | 'clientSideCache'>;

/** Options after defaults, validation and parsing. Frozen. */
export interface ResolvedOptions
  extends Readonly<Omit<Required<ClusterClientOptions>, 'rootNodes' | 'circuitBreaker' | 'pool' | 'username' | 'password' | 'tls' | 'natMap' | 'dnsLookup' | 'clientSideCache'>> {
  readonly rootNodes: readonly HostPort[];
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: TlsOptions | undefined;
  readonly natMap: AddressMap | undefined;
  readonly dnsLookup: DnsLookup | undefined;
  readonly circuitBreaker: Readonly<Required<CircuitBreakerOptions>>;
  readonly pool: Readonly<Required<PoolOptions>>;
  /** The validated `clientSideCache` option; undefined when the cache is off. */
  readonly clientSideCache: ResolvedCacheOptions | undefined;
}

const KNOWN = new Set<string>([...Object.keys(DEFAULTS), 'rootNodes']);
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

  if (!Array.isArray(input.rootNodes) || input.rootNodes.length === 0) {
    throw new InvalidArgumentError('rootNodes', `expected a non-empty array of "host:port" strings or {host, port}, got ${describe(input.rootNodes)}`);
  }
  const rootNodes = input.rootNodes.map((n, i) => parseAddress(n, `rootNodes[${i}]`));

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
  if (typeof o.connectionName !== 'string' || /\s/.test(o.connectionName)) {
    throw new InvalidArgumentError('connectionName', `expected a string without spaces, got ${describe(o.connectionName)}`);
  }
  if (o.natMap !== undefined && typeof o.natMap !== 'function' && (typeof o.natMap !== 'object' || o.natMap === null)) {
    throw new InvalidArgumentError('natMap', `expected an object keyed by "host:port" or a function, got ${describe(o.natMap)}`);
  }
  if (o.dnsLookup !== undefined && typeof o.dnsLookup !== 'function') {
    throw new InvalidArgumentError('dnsLookup', `expected a function (hostname, callback) like dns.lookup, got ${describe(o.dnsLookup)}`);
  }
  if (o.tls !== undefined && typeof o.tls !== 'boolean' && (typeof o.tls !== 'object' || o.tls === null)) {
    throw new InvalidArgumentError('tls', `expected true or TLS connection options, got ${describe(o.tls)}`);
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
  if (pool.min > pool.max) throw new InvalidArgumentError('pool.min', `must be ≤ pool.max (${pool.max}), got ${pool.min}`);

  return Object.freeze({
    ...o,
    rootNodes: Object.freeze(rootNodes),
    tls: o.tls === true ? {} : o.tls === false ? undefined : o.tls,
    circuitBreaker: Object.freeze(cb),
    pool: Object.freeze(pool),
    clientSideCache: resolveCacheOptions(input.clientSideCache),
  }) as ResolvedOptions;
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
