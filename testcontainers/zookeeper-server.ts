/**
 * A real ZooKeeper server for tests: one standalone process started from the
 * Debian `zookeeper` package's jar (no zkServer.sh, which daemonizes), with a
 * temp data dir and a dynamic client port on 127.0.0.1. It is our child in the
 * foreground, recorded in the process registry like a redis-server, so the
 * same guarantees hold: `stop()` reaps it and removes its dir, and the exit
 * hooks and the watchdog kill it if the owner dies first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ClusterEngineError } from '../lib/errors.js';
import { retryUntil } from './admin.js';
import { allocateNodePorts, releasePorts, type NodePorts } from './ports.js';
import { removeDirSync, trackDir, trackProcess, untrackDir } from './process-registry.js';

/** Where the Debian package puts the server jar (its manifest names every dependency jar). */
const DEBIAN_JAR = '/usr/share/java/zookeeper.jar';
const INSTALL_HINT = 'install it with `apt-get install zookeeper` (Debian/Ubuntu; needs Java), or set SLOTWISE_ZOOKEEPER_JAR';

/** Options of {@link ZooKeeperServer.start}. */
export interface ZooKeeperServerOptions {
  /** Client port on 127.0.0.1; 0 picks a free one. @default 0 */
  port?: number;
  /** How long to wait for the server to answer `srvr`. @default 60000 */
  startupTimeoutMs?: number;
  /** Longest session timeout the server grants, in ms. @default 20000 */
  maxSessionTimeoutMs?: number;
}

/** Where ZooKeeper was found, or why it was not. */
export type ZooKeeperInstallation =
  | {
      /** Path of the ZooKeeper server jar. */
      jar: string;
      /** The java binary that runs it. */
      java: string;
    }
  | {
      /** Why ZooKeeper cannot run here, with the command that installs it. */
      missing: string;
    };

/** The server jar and java binary, or why ZooKeeper cannot be started here. */
export function findZooKeeper(): ZooKeeperInstallation {
  const jar = process.env.SLOTWISE_ZOOKEEPER_JAR ?? DEBIAN_JAR;
  if (!existsSync(jar)) return { missing: `ZooKeeper is not installed (no ${jar}); ${INSTALL_HINT}` };
  const java = findJava();
  if (java === undefined) return { missing: `no java binary found (JAVA_HOME or PATH); ZooKeeper needs Java 11+` };
  return { jar, java };
}

function findJava(): string | undefined {
  const home = process.env.JAVA_HOME;
  if (home && existsSync(join(home, 'bin', 'java'))) return join(home, 'bin', 'java');
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'java'))) return join(dir, 'java');
  }
  return undefined;
}

/**
 * A standalone ZooKeeper process. `start()` makes the dir and waits until the
 * server answers; `kill()` SIGKILLs it but keeps its dir and port so
 * `restart()` brings the same ensemble (znodes and sessions) back, as an
 * outage would; `stop()` ends it for good.
 */
export class ZooKeeperServer implements AsyncDisposable {
  /** The server's temp dir (zoo.cfg, data); removed by `stop()`. */
  readonly dir: string;
  /** Its client port on 127.0.0.1. */
  readonly port: number;
  readonly #ports: NodePorts;
  readonly #bin: { jar: string; java: string };
  readonly #startupTimeoutMs: number;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #output = '';
  #stopped = false;

  private constructor(bin: { jar: string; java: string }, ports: NodePorts, dir: string, startupTimeoutMs: number) {
    this.#bin = bin;
    this.#ports = ports;
    this.port = ports.port;
    this.dir = dir;
    this.#startupTimeoutMs = startupTimeoutMs;
  }

  /** Starts a server; rejects with the reason when ZooKeeper or Java is missing. */
  static async start(options: ZooKeeperServerOptions = {}): Promise<ZooKeeperServer> {
    const bin = findZooKeeper();
    if ('missing' in bin) throw new ClusterEngineError(bin.missing);
    const ports = options.port ? { port: options.port, busPort: 0 } : await allocateNodePorts({ kind: 'auto' }, 0);
    const dir = mkdtempSync(join(tmpdir(), 'slotwise-zk-'));
    trackDir(dir);
    writeFileSync(
      join(dir, 'zoo.cfg'),
      [
        'tickTime=500',
        `dataDir=${join(dir, 'data')}`,
        `clientPort=${ports.port}`,
        'clientPortAddress=127.0.0.1',
        `maxSessionTimeout=${options.maxSessionTimeoutMs ?? 20_000}`,
        'admin.enableServer=false',
        '4lw.commands.whitelist=srvr,ruok',
        'maxClientCnxns=0',
        '',
      ].join('\n'),
    );
    const server = new ZooKeeperServer(bin, ports, dir, options.startupTimeoutMs ?? 60_000);
    try {
      await server.#spawn();
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  /** `127.0.0.1:<port>`, the connect string of a client. */
  get connectString(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** True while the process runs. */
  get running(): boolean {
    const c = this.#child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  async #spawn(): Promise<void> {
    this.#output = '';
    const child = spawn(
      this.#bin.java,
      [
        '-Xmx128m',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        `-Dzookeeper.log.dir=${this.dir}`,
        '-Dzookeeper.root.logger=INFO,CONSOLE',
        '-cp',
        this.#bin.jar,
        'org.apache.zookeeper.server.ZooKeeperServerMain',
        join(this.dir, 'zoo.cfg'),
      ],
      { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#child = child;
    const keep = (d: Buffer) => {
      this.#output = (this.#output + d.toString('utf8')).slice(-6000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let spawnError: Error | undefined;
    this.#exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', (err) => {
        spawnError = err;
        resolve();
      });
    });
    trackProcess(child, this.port, this.dir);
    await retryUntil(
      async () => {
        if (spawnError || !this.running) {
          const tail = this.#output.trim().split('\n').slice(-10).join('\n');
          throw Object.assign(new ClusterEngineError(`ZooKeeper on port ${this.port} exited during start${spawnError ? ` (${spawnError.message})` : ''}:\n${tail}`), { fatal: true });
        }
        return (await fourLetterWord(this.port, 'srvr')).includes('Zookeeper version');
      },
      { timeoutMs: this.#startupTimeoutMs, intervalMs: 100, what: `ZooKeeper on port ${this.port} to answer`, fatal: (e) => (e as { fatal?: boolean }).fatal === true },
    ).catch(async (err: unknown) => {
      await this.kill();
      throw err;
    });
  }

  /** SIGKILL (an outage); the dir and port stay for {@link restart}. */
  async kill(): Promise<void> {
    if (this.running) this.#child?.kill('SIGKILL');
    await this.#exited;
  }

  /** Starts the killed server again on the same port with the same data. */
  async restart(): Promise<void> {
    if (this.#stopped) throw new ClusterEngineError('this ZooKeeper server was stopped');
    if (this.running) throw new ClusterEngineError(`ZooKeeper on port ${this.port} is already running`);
    await this.#spawn();
  }

  /** Kills the server, removes its dir, frees its port. Idempotent. */
  async stop(): Promise<void> {
    await this.kill();
    if (this.#stopped) return;
    this.#stopped = true;
    removeDirSync(this.dir);
    untrackDir(this.dir);
    releasePorts(this.#ports);
  }

  /** `await using zk = await ZooKeeperServer.start()` stops it at scope end. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Sends a ZooKeeper four-letter command and resolves with the whole answer. */
function fourLetterWord(port: number, word: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let out = '';
    socket.setTimeout(2000, () => socket.destroy(new Error('four-letter word timed out')));
    socket.on('connect', () => socket.end(word));
    socket.on('data', (d) => (out += d.toString('utf8')));
    socket.on('error', reject);
    socket.on('close', () => resolve(out));
  });
}
