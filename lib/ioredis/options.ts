import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { InvalidArgumentError } from '../errors.js';
import { describe } from '../core/describe.js';
import { formatAddress, type DnsLookup } from '../core/addresses.js';
import type { AddressMap, ClusterClientOptions, HostPort, ReadCandidate, ReadFrom } from '../options.js';
import type { CommandDefinition } from '../scripts/define-command.js';

/** A startup node as ioredis takes it: a port, `"host:port"`, `"redis://host:port"`, or `{ host, port }`. */
export type ClusterNode = string | number | {
  /** Host name or IP. @default '127.0.0.1' */
  host?: string | undefined;
  /** TCP port. @default 6379 */
  port?: number | undefined;
};

/** ioredis' `natMap`: keyed by the announced `"host:port"`, or a function of it. */
export type IoredisNatMap = Record<string, IoredisNatTarget> | ((key: string) => IoredisNatTarget | null | undefined);

/** Where a `natMap` entry sends an announced address. */
export interface IoredisNatTarget {
  /** Reachable host. */
  host: string;
  /** Reachable port. */
  port: number;
}

/** The per-node connection options ioredis' Cluster takes in `redisOptions` that slotwise maps. */
export interface IoredisRedisOptions {
  /** Password for every node. @default undefined */
  password?: string | null;
  /** ACL user for every node. @default undefined (the `default` user) */
  username?: string;
  /** TLS options for every node connection. @default undefined (plain TCP) */
  tls?: TlsOptions;
  /** Only 0: a Redis Cluster has one database. @default 0 */
  db?: number;
  /** Prepended to every key of every command (not to patterns or replies), as in ioredis. @default undefined */
  keyPrefix?: string;
  /** Deadline of one connect + handshake, ms (slotwise `connectTimeoutMs`). @default 2000 (slotwise's) */
  connectTimeout?: number;
  /** Deadline of a command, ms (slotwise `commandTimeoutMs`, which covers every retry of the command). @default 5000 (slotwise's) */
  commandTimeout?: number;
  /** CLIENT SETNAME on every connection. @default undefined */
  connectionName?: string;
  /** RESP version (slotwise `protocol`); replies have ioredis' shapes either way. @default 3 (slotwise's) */
  protocol?: 2 | 3;
  [other: string]: unknown;
}

/** ioredis' `ClusterOptions`, as `new Cluster(startupNodes, options)` takes them. See docs/14-ioredis-compat.md for what each maps to. */
export interface IoredisClusterOptions {
  /** `'master'`, `'slave'`, `'all'`: where reads go (slotwise `readFrom`). @default 'master' */
  scaleReads?: 'master' | 'slave' | 'all' | ((...args: unknown[]) => unknown);
  /** Announced address → reachable address (slotwise `natMap`). @default undefined */
  natMap?: IoredisNatMap;
  /** Options for every node connection (see IoredisRedisOptions). @default {} */
  redisOptions?: IoredisRedisOptions;
  /** Prepended to every key (see redisOptions.keyPrefix); also accepted at the top level, as in ioredis. @default undefined */
  keyPrefix?: string;
  /** Deadline of one node's answer during a slots refresh (slotwise `topologyQueryTimeoutMs`). @default 1000 */
  slotsRefreshTimeout?: number;
  /** Periodic slots refresh (slotwise `topologyRefreshIntervalMs`). @default 5000 (slotwise's) */
  slotsRefreshInterval?: number;
  /** false: commands issued while not ready fail at once (slotwise `maxWaitingCommands: 0`). @default true */
  enableOfflineQueue?: boolean;
  /** Do not connect in the constructor; the first command (or `connect()`) does. @default false */
  lazyConnect?: boolean;
  /** MOVED/ASK redirections one command may follow. @default 16 */
  maxRedirections?: number;
  /** Longest wait between two retries during a failover (slotwise `retryMaxDelayMs`, with backoff below it). @default 250 (slotwise's) */
  retryDelayOnFailover?: number;
  /** As retryDelayOnFailover, for CLUSTERDOWN. @default 250 (slotwise's) */
  retryDelayOnClusterDown?: number;
  /** As retryDelayOnFailover, for TRYAGAIN. @default 250 (slotwise's) */
  retryDelayOnTryAgain?: number;
  /** `(times, reason) => ms | null`: when discovery fails, retry after ms, or give up (`end`). @default ioredis' (100 + 2·times, at most 2000 ms) */
  clusterRetryStrategy?: ((this: unknown, times: number, reason?: Error) => number | void | null) | null;
  /** Accepted; slotwise always batches the commands of one tick per node (`false` is reported). @default true */
  enableAutoPipelining?: boolean;
  /** Accepted for true (the map is always known before `ready`; `false` is reported). @default true */
  enableReadyCheck?: boolean;
  /**
   * `(hostname, callback)` like `dns.lookup` (slotwise `dnsLookup`): resolves the startup nodes given by name,
   * and also nodes the cluster announces by name, on every connect. IPs are never looked up.
   * @default undefined (the system resolver)
   */
  dnsLookup?: DnsLookup;
  /** Accepted: sharded pub/sub is always available. @default true */
  shardedSubscribers?: boolean;
  /** Custom commands, as with `defineCommand()`. @default {} */
  scripts?: Record<string, CommandDefinition>;
  [other: string]: unknown;
}

/** What the shim needs besides the ClusterClient's options. */
export interface MappedOptions {
  readonly client: ClusterClientOptions;
  readonly keyPrefix: string | undefined;
  readonly lazyConnect: boolean;
  readonly clusterRetryStrategy: ((times: number, reason?: Error) => number | void | null) | null;
  readonly scripts: Readonly<Record<string, CommandDefinition>>;
  /** Options given that slotwise does not honour, each with why (reported once per process by the caller). */
  readonly ignored: readonly { readonly option: string; readonly why: string }[];
}

/** ioredis' default clusterRetryStrategy: 100 ms + 2 ms per attempt, at most 2 s. */
export function defaultClusterRetryStrategy(times: number): number {
  return Math.min(100 + times * 2, 2000);
}

const IGNORED_WHY: Record<string, string> = {
  retryDelayOnMoved: 'slotwise patches the slot map on MOVED and retries at once (no ping-pong: the map is refreshed by consensus)',
  clusterNodeRetryStrategy: 'slotwise reconnects each node itself, with backoff and a circuit breaker',
  useSRVRecords: 'SRV discovery is not supported; list the startup nodes',
  resolveSrv: 'SRV discovery is not supported; list the startup nodes',
  autoPipeliningIgnoredCommands: 'slotwise batches every command of a tick per node; nothing is excluded',
  showFriendlyErrorStack: 'errors carry their own stack and a stable code',
  himportFieldsets: 'managed HIMPORT fieldsets are not supported',
  // redisOptions.* below
  'redisOptions.maxRetriesPerRequest': 'one deadline per command (commandTimeout) bounds every retry instead',
  'redisOptions.retryStrategy': 'slotwise reconnects each node itself, with backoff and a circuit breaker',
  'redisOptions.reconnectOnError': 'slotwise decides retries from the reply (MOVED/ASK/TRYAGAIN/CLUSTERDOWN/LOADING/READONLY) itself',
  'redisOptions.autoResubscribe': 'pub/sub always resubscribes (and reports gaps on client.subscriber)',
  'redisOptions.autoResendUnfulfilledCommands': 'only idempotent commands are re-sent after a connection loss',
  'redisOptions.enableAutoPipelining': 'always on',
  'redisOptions.showFriendlyErrorStack': 'errors carry their own stack and a stable code',
};

/** Options that need no mapping because slotwise always does what they ask. */
const ALWAYS = new Set(['shardedSubscribers']);
/** redisOptions keys with no effect on a cluster client's behaviour. */
const HARMLESS_REDIS = new Set(['lazyConnect', 'disableClientInfo', 'clientInfoTag', 'family', 'keepAlive', 'noDelay']);

/**
 * Maps `(startupNodes, ClusterOptions)` of ioredis onto ClusterClient options.
 * Invalid values throw InvalidArgumentError; options slotwise does not honour
 * are returned in `ignored` (never silently dropped).
 */
export function mapOptions(startupNodes: readonly ClusterNode[], options: IoredisClusterOptions = {}): MappedOptions {
  if (!Array.isArray(startupNodes) || startupNodes.length === 0) {
    throw new InvalidArgumentError('startupNodes', `expected a non-empty array of ports, "host:port" strings or { host, port }, got ${describe(startupNodes)}`);
  }
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('Cluster options', `expected an object, got ${describe(options)}`);
  const ignored: { option: string; why: string }[] = [];
  const client: { -readonly [K in keyof ClusterClientOptions]: ClusterClientOptions[K] } = { rootNodes: startupNodes.map((n, i) => parseStartupNode(n, i, ignored)) };
  const o = options;
  const r: IoredisRedisOptions = o.redisOptions ?? {};
  if (r === null || typeof r !== 'object') throw new InvalidArgumentError('redisOptions', `expected an object, got ${describe(r)}`);

  for (const [key, value] of Object.entries(o)) {
    if (value === undefined) continue;
    switch (key) {
      case 'scaleReads': client.readFrom = mapScaleReads(value, ignored); break;
      case 'natMap': client.natMap = mapNatMap(value); break;
      case 'dnsLookup': client.dnsLookup = mapDnsLookup(value); break;
      case 'slotsRefreshTimeout': client.topologyQueryTimeoutMs = value as number; break;
      case 'slotsRefreshInterval': client.topologyRefreshIntervalMs = value as number; break;
      case 'enableOfflineQueue': if (value === false) client.maxWaitingCommands = 0; break;
      case 'maxRedirections': client.maxRedirections = value as number; break;
      case 'retryDelayOnFailover': case 'retryDelayOnClusterDown': case 'retryDelayOnTryAgain': break; // below
      case 'enableAutoPipelining': if (value === false) ignored.push({ option: key, why: 'slotwise always batches the commands of one tick per node (results are the same)' }); break;
      case 'enableReadyCheck': if (value === false) ignored.push({ option: key, why: '`ready` is always emitted once the slot map is known' }); break;
      case 'redisOptions': case 'keyPrefix': case 'lazyConnect': case 'clusterRetryStrategy': case 'scripts': break; // below
      default:
        if (ALWAYS.has(key)) break;
        ignored.push({ option: key, why: IGNORED_WHY[key] ?? 'not an option slotwise knows' });
    }
  }
  const delays = [o.retryDelayOnFailover, o.retryDelayOnClusterDown, o.retryDelayOnTryAgain].filter((d) => d !== undefined);
  if (delays.length > 0) {
    // ioredis waits a fixed delay; slotwise backs off (10 ms doubling) up to a cap: the cap is the longest delay given.
    const cap = Math.max(...delays.map((d, i) => nonNegative(['retryDelayOnFailover', 'retryDelayOnClusterDown', 'retryDelayOnTryAgain'][i]!, d)));
    client.retryMaxDelayMs = cap;
    if (cap < 10) client.retryBaseDelayMs = cap;
  }

  for (const [key, value] of Object.entries(r)) {
    if (value === undefined) continue;
    switch (key) {
      case 'password': if (value !== null) client.password = value as string; break;
      case 'username': client.username = value as string; break;
      case 'tls': client.tls = value as TlsOptions; break;
      case 'db':
        if (value !== 0) throw new InvalidArgumentError('redisOptions.db', `a Redis Cluster has only database 0, got ${describe(value)}`);
        break;
      case 'connectTimeout': client.connectTimeoutMs = value as number; break;
      case 'commandTimeout': client.commandTimeoutMs = value as number; break;
      case 'connectionName': client.connectionName = value as string; break;
      case 'protocol': client.protocol = value as 2 | 3; break;
      case 'keyPrefix': break; // below
      case 'stringNumbers':
        // It changes reply shapes (integers as strings): never drop it silently.
        if (value === true) ignored.push({ option: 'redisOptions.stringNumbers', why: 'integer replies are JavaScript numbers (exact up to 2^53); use call() with a Lua script or store big values as strings' });
        break;
      default:
        if (HARMLESS_REDIS.has(key)) break;
        ignored.push({ option: `redisOptions.${key}`, why: IGNORED_WHY[`redisOptions.${key}`] ?? 'not an option slotwise knows' });
    }
  }

  const keyPrefix = o.keyPrefix ?? r.keyPrefix;
  if (keyPrefix !== undefined && (typeof keyPrefix !== 'string' || keyPrefix.length === 0)) {
    throw new InvalidArgumentError('keyPrefix', `expected a non-empty string, got ${describe(keyPrefix)}`);
  }
  const strategy = o.clusterRetryStrategy === undefined ? defaultClusterRetryStrategy : o.clusterRetryStrategy;
  if (strategy !== null && typeof strategy !== 'function') {
    throw new InvalidArgumentError('clusterRetryStrategy', `expected a function (times) => ms | null, or null, got ${describe(strategy)}`);
  }
  const scripts = o.scripts ?? {};
  if (scripts === null || typeof scripts !== 'object') throw new InvalidArgumentError('scripts', `expected { name: { lua, numberOfKeys? } }, got ${describe(scripts)}`);
  return Object.freeze({
    client,
    keyPrefix,
    lazyConnect: o.lazyConnect === true,
    clusterRetryStrategy: strategy,
    scripts,
    ignored: Object.freeze(ignored),
  });
}

function nonNegative(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new InvalidArgumentError(name, `expected a non-negative integer (ms), got ${describe(v)}`);
  return v;
}

function parseStartupNode(n: ClusterNode, i: number, ignored: { option: string; why: string }[]): HostPort {
  if (typeof n === 'number') return { host: '127.0.0.1', port: n };
  if (typeof n === 'string') {
    if (/^\d+$/.test(n)) return { host: '127.0.0.1', port: Number(n) };
    if (n.includes('://')) {
      let url: URL;
      try {
        url = new URL(n);
      } catch {
        throw new InvalidArgumentError(`startupNodes[${i}]`, `expected a redis:// URL, "host:port" or a port, got ${describe(n)}`);
      }
      return { host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(url.port || 6379) };
    }
    return stringAddress(n, i);
  }
  if (n !== null && typeof n === 'object') {
    const extra = Object.keys(n).filter((k) => k !== 'host' && k !== 'port');
    if (extra.length > 0) ignored.push({ option: `startupNodes[${i}].${extra.join('/')}`, why: 'per-node settings are not supported; every node gets redisOptions' });
    const port = n.port === undefined ? 6379 : Number(n.port);
    return { host: n.host ?? '127.0.0.1', port };
  }
  throw new InvalidArgumentError(`startupNodes[${i}]`, `expected a port, "host:port" or { host, port }, got ${describe(n)}`);
}

function stringAddress(s: string, i: number): HostPort {
  const colon = s.lastIndexOf(':');
  if (colon <= 0) throw new InvalidArgumentError(`startupNodes[${i}]`, `expected "host:port", got ${describe(s)}`);
  return { host: s.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(s.slice(colon + 1)) };
}

function mapScaleReads(v: unknown, ignored: { option: string; why: string }[]): ReadFrom {
  switch (v) {
    case 'master': return 'master';
    case 'slave': return 'replica';
    case 'all': return randomNode;
  }
  if (typeof v === 'function') {
    ignored.push({ option: 'scaleReads', why: 'a scaleReads function receives ioredis node objects; pass slotwise readFrom semantics instead — reads go to masters' });
    return 'master';
  }
  throw new InvalidArgumentError('scaleReads', `expected "master", "slave", "all" or a function, got ${describe(v)}`);
}

/** scaleReads 'all': any healthy node of the slot's shard, at random. */
function randomNode(candidates: readonly ReadCandidate[]): ReadCandidate | undefined {
  const healthy = candidates.filter((c) => c.healthy);
  const pool = healthy.length > 0 ? healthy : candidates;
  return pool[Math.floor(Math.random() * pool.length)];
}

function mapNatMap(v: unknown): AddressMap {
  if (typeof v === 'function') {
    const fn = v as (key: string) => HostPort | null | undefined;
    return (a: HostPort) => fn(formatAddress(a.host, a.port)) ?? undefined;
  }
  if (v !== null && typeof v === 'object') return v as AddressMap;
  throw new InvalidArgumentError('natMap', `expected an object keyed by "host:port" or a function, got ${describe(v)}`);
}

function mapDnsLookup(v: unknown): DnsLookup {
  // Same signature as ioredis' DNSLookupFunction: passed through as it is.
  if (typeof v === 'function') return v as DnsLookup;
  throw new InvalidArgumentError('dnsLookup', `expected a function (hostname, callback) like dns.lookup, got ${describe(v)}`);
}
