/**
 * One redis-server process we own: its temp dir, its generated redis.conf, and
 * the signals a test may send it. The process runs in the foreground
 * (`daemonize no`) as our child, so its pid is ours to signal and its 'exit'
 * event tells us reliably when it is gone (and reaped, not a zombie).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterEngineError } from '../lib/errors.js';
import type { NodeAuth } from './admin.js';
import { retryUntil } from './admin.js';
import { nextLoopbackAddress, releasePorts, reservePorts, type NodePorts } from './ports.js';
import { removeDirSync, trackDir, trackProcess, untrackDir } from './process-registry.js';

/** Lifecycle state of a node as the engine knows it. */
export type NodeState = 'starting' | 'up' | 'paused' | 'killed' | 'removed';

/**
 * What the engine needs from one node, whatever runs it: a local process
 * ({@link RedisNodeProcess}) or a container (docker-node.ts).
 */
export interface EngineNode {
  /** Client port; the same inside a container and on this machine. */
  readonly port: number;
  readonly busPort: number;
  /** Address this machine reaches the node at (a loopback address; for bridge-network containers its published 127.0.0.1). */
  readonly host: string;
  /** IP the node announces to peers and clients (a container's own IP on a bridge network). */
  readonly announcedIp: string;
  /** Host temp dir of the node ('' for container nodes). */
  readonly dir: string;
  /** Pid of the running process; undefined when none runs or for containers. */
  readonly pid: number | undefined;
  readonly state: NodeState;
  /** Starts (or starts again, same data dir) and resolves when it accepts connections. */
  start(): Promise<void>;
  /** SIGKILL; resolves once it is gone. */
  kill(): Promise<void>;
  /** SIGSTOP (freeze); sockets stay open. */
  pause(): Promise<void>;
  /** SIGCONT. */
  resume(): Promise<void>;
  /** Ends it for good and deletes its data. Idempotent. */
  destroy(): Promise<void>;
  /**
   * While killed: the next `start()` comes up on another IP with the same
   * data dir (node id, nodes.conf, AOF) — what a Kubernetes pod restart does.
   */
  moveToNewAddress(): Promise<void>;
}

/** Settings rendered into one node's redis.conf. */
export interface NodeConfig {
  readonly port: number;
  readonly busPort: number;
  readonly dir: string;
  readonly nodeTimeoutMs: number;
  readonly appendOnly: boolean;
  readonly auth?: NodeAuth;
  /** Log to stdout instead of `<dir>/redis.log`. */
  readonly logToStdout?: boolean;
  /** Address redis-server binds, client and bus port alike. @default '127.0.0.1' */
  readonly bindHost?: string;
  /** IP announced to peers and clients (`cluster-announce-ip`). @default bindHost */
  readonly announceIp?: string;
  /** Announce this name (`cluster-announce-hostname`) and make it the preferred endpoint clients get. */
  readonly announceHostname?: string;
  /** TLS-only node: every listener (clients, cluster bus, replication) speaks TLS. */
  readonly tls?: NodeTlsConfig;
}

/** TLS files of a node (paths as the node sees them) and whether clients must present a certificate. */
export interface NodeTlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
  /** `tls-auth-clients yes` (mutual TLS) or `no`. */
  readonly mutual: boolean;
}

/** Quotes a value for redis.conf (sdssplitargs rules: "…" with \\ and \" escapes). */
function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Renders a node's redis.conf. Exported for unit tests. */
export function renderRedisConf(c: NodeConfig): string {
  const lines = [
    // TLS: the plaintext port is closed (0) and the client port speaks TLS only.
    ...(c.tls === undefined ? [`port ${c.port}`] : ['port 0', `tls-port ${c.port}`]),
    `bind ${c.bindHost ?? '127.0.0.1'}`,
    'protected-mode no',
    // Announce the address from the start; otherwise a node only learns its own IP from a peer's MEET,
    // and after a restart on another IP it would keep announcing the old one from nodes.conf.
    `cluster-announce-ip ${c.announceIp ?? c.bindHost ?? '127.0.0.1'}`,
    'cluster-enabled yes',
    'cluster-config-file nodes.conf',
    `cluster-node-timeout ${c.nodeTimeoutMs}`,
    // Explicit: the default (port + 10000) may be taken by another process on a shared machine.
    `cluster-port ${c.busPort}`,
    `dir ${quote(c.dir)}`,
    // We own the process: no fork, so its pid stays the one we signal.
    'daemonize no',
    `logfile ${c.logToStdout === true ? '""' : quote(join(c.dir, 'redis.log'))}`,
    'save ""',
    `appendonly ${c.appendOnly ? 'yes' : 'no'}`,
    // Redis's default, stated because the engine's restarts rely on it: the AOF is write(2)n before
    // the reply goes out, so a SIGKILLed node keeps every write it acknowledged (only an OS crash
    // could lose the last second, which the engine never simulates).
    'appendfsync everysec',
    // The default delays every replica's first full sync by 5 s; we want replicas in sync before start() returns.
    'repl-diskless-sync yes',
    'repl-diskless-sync-delay 0',
    // 0 = a replica may always fail over, however long it was disconnected. With the default (10),
    // a replica that lagged while the machine was busy may refuse to take over and tests would hang.
    'cluster-replica-validity-factor 0',
    // Topology changes only when a test asks for one: no replica wandering off to an orphaned
    // master, no emptied master turning itself into a replica (removeNode re-points replicas itself).
    'cluster-allow-replica-migration no',
    // Lets tests use DEBUG SLEEP / DEBUG SEGFAULT from localhost only.
    'enable-debug-command local',
  ];
  if (c.announceHostname !== undefined) {
    // Clients get the name in CLUSTER SHARDS/SLOTS and in MOVED/ASK: pods keep their name, not their IP.
    lines.push(`cluster-announce-hostname ${quote(c.announceHostname)}`, 'cluster-preferred-endpoint-type hostname');
  }
  if (c.tls !== undefined) {
    lines.push(
      `tls-cert-file ${quote(c.tls.certFile)}`,
      `tls-key-file ${quote(c.tls.keyFile)}`,
      `tls-ca-cert-file ${quote(c.tls.caFile)}`,
      // The node certificate carries clientAuth too: nodes present it to each other on bus and replication links.
      'tls-cluster yes',
      'tls-replication yes',
      `tls-auth-clients ${c.tls.mutual ? 'yes' : 'no'}`,
    );
  }
  if (c.auth !== undefined) {
    if (c.auth.username === undefined) {
      lines.push(`requirepass ${quote(c.auth.password)}`, `masterauth ${quote(c.auth.password)}`);
    } else {
      lines.push(
        'user default off',
        `user ${quote(c.auth.username)} on ${quote(`>${c.auth.password}`)} ~* &* +@all`,
        `masteruser ${quote(c.auth.username)}`,
        `masterauth ${quote(c.auth.password)}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Raised internally when a port was taken between probing and binding; the caller picks new ports. */
export class PortInUseError extends ClusterEngineError {}

/** Options to create a {@link RedisNodeProcess}. */
export interface NodeProcessOptions {
  readonly bin: string;
  readonly ports: NodePorts;
  readonly nodeTimeoutMs: number;
  readonly appendOnly: boolean;
  readonly auth?: NodeAuth;
  readonly tls?: NodeTlsConfig;
  readonly startupTimeoutMs: number;
  /** Loopback address to bind and announce. @default '127.0.0.1' */
  readonly host?: string;
  /** See {@link NodeConfig.announceHostname}. */
  readonly hostname?: string;
}

/** The redis.conf of a node started with `options`, on `host`, with its data in `dir`. */
export function nodeConfig(options: NodeProcessOptions, dir: string, host: string, announceIp = host): NodeConfig {
  return {
    ...options,
    ...options.ports,
    dir,
    bindHost: host,
    announceIp,
    ...(options.hostname !== undefined ? { announceHostname: options.hostname } : {}),
  };
}

/** One redis-server child process and its temp dir. */
export class RedisNodeProcess implements EngineNode {
  readonly port: number;
  readonly busPort: number;
  readonly dir: string;
  readonly #options: NodeProcessOptions;
  #host: string;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #state: NodeState = 'starting';
  #stderr = '';
  #spawnError: Error | undefined;

  private constructor(options: NodeProcessOptions, dir: string) {
    this.#options = options;
    this.port = options.ports.port;
    this.busPort = options.ports.busPort;
    this.dir = dir;
    this.#host = options.host ?? '127.0.0.1';
  }

  get host(): string {
    return this.#host;
  }

  get announcedIp(): string {
    return this.#host;
  }

  #writeConf(): void {
    writeFileSync(join(this.dir, 'redis.conf'), renderRedisConf(nodeConfig(this.#options, this.dir, this.#host)), { mode: 0o600 });
  }

  /** Rewrites redis.conf for the next loopback address (127.0.0.2, .3 …); call while killed. */
  async moveToNewAddress(): Promise<void> {
    if (this.#running()) throw new ClusterEngineError(`node ${this.port} must be killed before it moves to a new address`);
    this.#host = nextLoopbackAddress(this.#host);
    this.#writeConf();
  }

  /** Makes the temp dir and redis.conf; does not start anything. */
  static create(options: NodeProcessOptions): RedisNodeProcess {
    const dir = mkdtempSync(join(tmpdir(), 'slotwise-'));
    trackDir(dir);
    reservePorts(options.ports);
    const node = new RedisNodeProcess(options, dir);
    node.#writeConf();
    return node;
  }

  /** Pid of the running process, or undefined when none runs. */
  get pid(): number | undefined {
    return this.#running() ? this.#child?.pid : undefined;
  }

  get state(): NodeState {
    return this.#state;
  }

  #running(): boolean {
    const c = this.#child;
    return c !== undefined && this.#spawnError === undefined && c.exitCode === null && c.signalCode === null;
  }

  /**
   * Spawns redis-server and resolves once its log says it accepts connections
   * (our own log file, so another server on the same port cannot fool us).
   * @throws PortInUseError when a port was taken; ClusterEngineError with the log tail otherwise.
   */
  async start(): Promise<void> {
    if (this.#running()) throw new ClusterEngineError(`node ${this.port} is already running`);
    const logPath = join(this.dir, 'redis.log');
    const logOffset = fileSize(logPath);
    const child = spawn(this.#options.bin, [join(this.dir, 'redis.conf')], {
      cwd: this.dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.#child = child;
    this.#stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      this.#stderr = (this.#stderr + d).slice(-4000);
    });
    this.#spawnError = undefined;
    this.#exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        // Died on its own (crash, SHUTDOWN, DEBUG SEGFAULT): no longer a live node.
        if (this.#child === child && (this.#state === 'up' || this.#state === 'paused')) this.#state = 'killed';
        resolve();
      });
      child.once('error', (err) => {
        this.#spawnError = err; // e.g. ENOENT: no 'exit' event follows
        resolve();
      });
    });
    trackProcess(child, this.port, this.dir);
    this.#state = 'starting';
    await retryUntil(
      async () => {
        const log = readFrom(logPath, logOffset);
        if (/Ready to accept connections/.test(log)) return true;
        if (!this.#running()) {
          const err = this.#spawnError;
          const tail = `${log}\n${this.#stderr}`.trim().split('\n').slice(-8).join('\n');
          if (/Address already in use/.test(tail)) {
            throw Object.assign(new PortInUseError(`port ${this.port} or bus port ${this.busPort} is in use`), { fatal: true });
          }
          throw Object.assign(
            new ClusterEngineError(`redis-server for port ${this.port} exited during start${err ? ` (${err.message})` : ''}:\n${tail}`),
            { fatal: true },
          );
        }
        return false;
      },
      { timeoutMs: this.#options.startupTimeoutMs, intervalMs: 10, what: `redis-server on port ${this.port} to accept connections`, fatal: isFatal },
    ).catch(async (err: unknown) => {
      await this.kill();
      throw err;
    });
    this.#state = 'up';
  }

  /** SIGKILL; resolves once the process has exited. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child !== undefined && this.#running()) child.kill('SIGKILL');
    await this.#exited;
    if (this.#state !== 'removed') this.#state = 'killed';
  }

  /** SIGSTOP: the process is frozen, its sockets stay open. */
  async pause(): Promise<void> {
    if (!this.#running()) throw new ClusterEngineError(`node ${this.port} is not running (state ${this.#state})`);
    this.#child?.kill('SIGSTOP');
    this.#state = 'paused';
  }

  /** SIGCONT. */
  async resume(): Promise<void> {
    if (!this.#running()) throw new ClusterEngineError(`node ${this.port} is not running (state ${this.#state})`);
    this.#child?.kill('SIGCONT');
    this.#state = 'up';
  }

  /** Kills the process, deletes its dir and frees its ports. Idempotent. */
  async destroy(): Promise<void> {
    await this.kill();
    this.#state = 'removed';
    removeDirSync(this.dir);
    untrackDir(this.dir);
    releasePorts({ port: this.port, busPort: this.busPort });
  }

  /** Last lines of the node's log, for error messages. */
  logTail(lines = 20): string {
    return readFrom(join(this.dir, 'redis.log'), 0).trim().split('\n').slice(-lines).join('\n');
  }
}

function isFatal(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { fatal?: boolean }).fatal === true;
}

export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export function readFrom(path: string, offset: number): string {
  try {
    return readFileSync(path).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}
