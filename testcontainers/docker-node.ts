/**
 * A node in a container, for machines with a container runtime but no local
 * redis-server. Kept deliberately small: the same redis.conf as a process node,
 * host networking (so the addresses nodes announce, 127.0.0.1:port, are the
 * ones clients on this host reach — Linux Docker only), and the runtime's own
 * kill/pause/unpause/start for faults. Containers that outlive a crashed test
 * process are removed by testcontainers' reaper (Ryuk).
 *
 * NOT exercised on the build machine (it has no container runtime); the test
 * in test/integration/engine-docker.test.ts runs wherever one exists.
 * `testcontainers` is loaded only here, lazily.
 */
import { readFileSync } from 'node:fs';
import { ClusterEngineError } from '../lib/errors.js';
import { openAdminConnection, retryUntil } from './admin.js';
import type { NodeHandle, NodeProcessOptions, NodeState } from './node-process.js';
import { renderRedisConf } from './node-process.js';
import { releasePorts, reservePorts } from './ports.js';

/** Image used for container nodes. */
export const DEFAULT_REDIS_IMAGE = 'redis:7.2';

/** The bits of dockerode's Container the engine uses. */
interface RuntimeContainer {
  kill(opts: { signal: string }): Promise<unknown>;
  pause(): Promise<unknown>;
  unpause(): Promise<unknown>;
  start(): Promise<unknown>;
  remove(opts: { force: boolean; v: boolean }): Promise<unknown>;
}

/** The bits of testcontainers' GenericContainer builder the engine uses. */
interface ContainerBuilder {
  withNetworkMode(mode: string): ContainerBuilder;
  withCopyContentToContainer(files: Array<{ content: string; target: string }>): ContainerBuilder;
  withCommand(command: string[]): ContainerBuilder;
  withWaitStrategy(strategy: unknown): ContainerBuilder;
  withStartupTimeout(ms: number): ContainerBuilder;
  withAutoRemove(autoRemove: boolean): ContainerBuilder;
  start(): Promise<{ getId(): string }>;
}

/** Structural view of the lazily imported module (no static import, not even of types). */
interface Testcontainers {
  GenericContainer: new (image: string) => ContainerBuilder;
  Wait: { forLogMessage(message: RegExp): unknown };
  getContainerRuntimeClient(): Promise<{ container: { getById(id: string): RuntimeContainer } }>;
}

const CONF_PATH = '/usr/local/etc/redis/slotwise.conf';
const TLS_DIR = '/usr/local/etc/redis/tls';

/** One redis-server in a container on the host network. */
export class DockerRedisNode implements NodeHandle {
  readonly port: number;
  readonly busPort: number;
  readonly dir = '';
  readonly pid = undefined;
  readonly #options: NodeProcessOptions;
  readonly #image: string;
  #container: RuntimeContainer | undefined;
  #state: NodeState = 'starting';

  constructor(options: NodeProcessOptions, image = DEFAULT_REDIS_IMAGE) {
    this.#options = options;
    this.#image = image;
    this.port = options.ports.port;
    this.busPort = options.ports.busPort;
    reservePorts(options.ports);
  }

  get state(): NodeState {
    return this.#state;
  }

  async start(): Promise<void> {
    if (this.#container !== undefined) {
      // Restart: same container, so the same /data (nodes.conf, AOF) and node id.
      await this.#container.start();
      await this.#waitReady();
      this.#state = 'up';
      return;
    }
    const tc = (await import('testcontainers')) as unknown as Testcontainers;
    const tls = this.#options.tls;
    // TLS files are copied in beside the config; the config names them by their container paths.
    const tlsFiles =
      tls === undefined
        ? []
        : [
            { content: readFileSync(tls.certFile, 'utf8'), target: `${TLS_DIR}/node.crt` },
            { content: readFileSync(tls.keyFile, 'utf8'), target: `${TLS_DIR}/node.key` },
            { content: readFileSync(tls.caFile, 'utf8'), target: `${TLS_DIR}/ca.crt` },
          ];
    const conf = renderRedisConf({
      ...this.#options,
      ...this.#options.ports,
      dir: '/data',
      logToStdout: true,
      ...(tls === undefined ? {} : { tls: { ...tls, certFile: `${TLS_DIR}/node.crt`, keyFile: `${TLS_DIR}/node.key`, caFile: `${TLS_DIR}/ca.crt` } }),
    });
    let started: { getId(): string };
    try {
      started = await new tc.GenericContainer(this.#image)
        .withNetworkMode('host')
        .withCopyContentToContainer([{ content: conf, target: CONF_PATH }, ...tlsFiles])
        .withCommand(['redis-server', CONF_PATH])
        .withWaitStrategy(tc.Wait.forLogMessage(/Ready to accept connections/))
        .withStartupTimeout(this.#options.startupTimeoutMs)
        .withAutoRemove(false)
        .start();
    } catch (err) {
      throw new ClusterEngineError(`container node on port ${this.port} (${this.#image}) did not start: ${(err as Error).message}`, { cause: err });
    }
    const client = await tc.getContainerRuntimeClient();
    this.#container = client.container.getById(started.getId());
    this.#state = 'up';
  }

  async #waitReady(): Promise<void> {
    await retryUntil(
      async () => {
        const c = openAdminConnection('127.0.0.1', this.port, this.#options.auth, 2_000, this.#options.clientTls);
        try {
          return (await c.ping()) === 'PONG';
        } finally {
          c.disconnect();
        }
      },
      { timeoutMs: this.#options.startupTimeoutMs, intervalMs: 50, what: `container node on port ${this.port} to answer PING` },
    );
  }

  async kill(): Promise<void> {
    if (this.#state === 'up' || this.#state === 'paused') {
      if (this.#state === 'paused') await this.#container?.unpause();
      await this.#container?.kill({ signal: 'SIGKILL' }).catch(() => undefined);
    }
    if (this.#state !== 'removed') this.#state = 'killed';
  }

  async pause(): Promise<void> {
    await this.#container?.pause();
    this.#state = 'paused';
  }

  async resume(): Promise<void> {
    await this.#container?.unpause();
    this.#state = 'up';
  }

  async destroy(): Promise<void> {
    if (this.#state === 'removed') return;
    await this.#container?.remove({ force: true, v: true }).catch(() => undefined);
    this.#state = 'removed';
    releasePorts({ port: this.port, busPort: this.busPort });
  }
}
