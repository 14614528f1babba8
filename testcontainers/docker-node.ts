/**
 * A node in a container, for machines with a container runtime (CI without a
 * redis-server, Docker Desktop). Same redis.conf as a process node (rendered
 * by node-process.ts), written into a host temp dir bind-mounted at /data, so
 * nodes.conf and the AOF survive a new container — the StatefulSet pod with
 * its volume. Two networks:
 *
 * - `host`: the container shares this machine's network (Linux engines only);
 *   nodes bind and announce a loopback address like process nodes.
 * - `bridge`: each node has its own IP on the cluster's private network and
 *   announces it; its client port is published on 127.0.0.1 under the same
 *   number, so clients here reach it through a natMap (announced IP:port →
 *   127.0.0.1:port). Works on Docker Desktop.
 *
 * Nothing relies on a reaper container: every container is recorded in the
 * process registry, whose watchdog removes it if this process dies.
 * `testcontainers` (and through it dockerode) is loaded lazily.
 */
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterEngineError } from '../lib/errors.js';
import { retryUntil } from './admin.js';
import { dockerClient, type DockerContainer, type Dockerode } from './docker.js';
import type { DockerNetwork } from './docker-network.js';
import { fileSize, nodeConfig, PortInUseError, readFrom, renderRedisConf, type EngineNode, type NodeProcessOptions, type NodeState } from './node-process.js';
import { nextLoopbackAddress, releasePorts, reservePorts } from './ports.js';
import { removeDirSync, trackContainer, trackDir, untrackContainer, untrackDir, type DockerEndpoint } from './process-registry.js';

/** Image used for container nodes unless `withImage()` says otherwise. */
export const DEFAULT_REDIS_IMAGE = 'redis:7.2';

/** Where a container node's network lives. */
export type DockerNetworking = { readonly mode: 'host' } | { readonly mode: 'bridge'; readonly network: DockerNetwork };

/** How the watchdog reaches the engine that runs our containers. */
export function endpointOf(docker: Dockerode): DockerEndpoint {
  const m = docker.modem;
  if (m.socketPath !== undefined) return { socketPath: m.socketPath };
  return { host: m.host ?? '127.0.0.1', port: Number(m.port ?? 2375) };
}

/** One redis-server in a container. */
export class DockerRedisNode implements EngineNode {
  readonly port: number;
  readonly busPort: number;
  readonly dir: string;
  readonly pid = undefined;
  readonly #options: NodeProcessOptions;
  readonly #image: string;
  readonly #net: DockerNetworking;
  #host: string;
  #ip: string;
  #container: DockerContainer | undefined;
  #state: NodeState = 'starting';

  constructor(options: NodeProcessOptions, image: string, net: DockerNetworking) {
    this.#options = options;
    this.#image = image;
    this.#net = net;
    this.port = options.ports.port;
    this.busPort = options.ports.busPort;
    this.#host = net.mode === 'host' ? (options.host ?? '127.0.0.1') : '127.0.0.1';
    this.#ip = net.mode === 'host' ? this.#host : net.network.nextIp();
    this.dir = mkdtempSync(join(tmpdir(), 'slotwise-'));
    trackDir(this.dir);
    reservePorts(options.ports);
    this.#writeConf();
  }

  get host(): string {
    return this.#host;
  }

  get announcedIp(): string {
    return this.#ip;
  }

  get state(): NodeState {
    return this.#state;
  }

  #writeConf(): void {
    const bind = this.#net.mode === 'host' ? this.#host : '0.0.0.0';
    const tls = this.#options.tls;
    if (tls !== undefined) {
      // The TLS files go into the bind-mounted dir beside redis.conf, which names them by their container paths.
      copyFileSync(tls.certFile, join(this.dir, 'tls-node.crt'));
      copyFileSync(tls.keyFile, join(this.dir, 'tls-node.key'));
      copyFileSync(tls.caFile, join(this.dir, 'tls-ca.crt'));
    }
    const conf = renderRedisConf({
      ...nodeConfig(this.#options, '/data', bind, this.#ip),
      ...(tls === undefined ? {} : { tls: { ...tls, certFile: '/data/tls-node.crt', keyFile: '/data/tls-node.key', caFile: '/data/tls-ca.crt' } }),
    });
    writeFileSync(join(this.dir, 'redis.conf'), conf, { mode: 0o644 });
  }

  async #create(docker: Dockerode): Promise<DockerContainer> {
    const port = `${this.port}/tcp`;
    const bridge = this.#net.mode === 'bridge' ? this.#net.network : undefined;
    const uid = process.getuid?.();
    const gid = process.getgid?.();
    const container = await docker.createContainer({
      Image: this.#image,
      Cmd: ['redis-server', '/data/redis.conf'],
      WorkingDir: '/data',
      // Our uid, so files in the bind-mounted dir stay ours to delete.
      ...(uid !== undefined && gid !== undefined ? { User: `${uid}:${gid}` } : {}),
      Labels: { 'org.slotwise.engine': String(process.pid), 'org.slotwise.port': String(this.port) },
      ...(bridge ? { ExposedPorts: { [port]: {} } } : {}),
      HostConfig: {
        Binds: [`${this.dir}:/data`],
        NetworkMode: bridge ? bridge.name : 'host',
        // Published on loopback only: the nodes must not be reachable from the network.
        ...(bridge ? { PortBindings: { [port]: [{ HostIp: '127.0.0.1', HostPort: String(this.port) }] } } : {}),
      },
      ...(bridge ? { NetworkingConfig: { EndpointsConfig: { [bridge.name]: { IPAMConfig: { IPv4Address: this.#ip } } } } } : {}),
    });
    trackContainer(container.id, endpointOf(docker));
    return container;
  }

  /** Starts the container (a new one after a move) and resolves once redis-server accepts connections. */
  async start(): Promise<void> {
    const logPath = join(this.dir, 'redis.log');
    const offset = fileSize(logPath);
    const client = await dockerClient();
    this.#state = 'starting';
    try {
      this.#container ??= await this.#create(client.container.dockerode);
      await this.#container.start();
    } catch (err) {
      const msg = (err as Error).message;
      if (/address already in use|port is already allocated/i.test(msg)) throw new PortInUseError(`port ${this.port} is in use (${msg})`, { cause: err });
      throw new ClusterEngineError(`container node on port ${this.port} (${this.#image}) did not start: ${msg}`, { cause: err });
    }
    await retryUntil(
      async () => {
        const log = readFrom(logPath, offset);
        if (/Ready to accept connections/.test(log)) return true;
        if (/Address already in use/.test(log)) throw Object.assign(new PortInUseError(`port ${this.port} or bus port ${this.busPort} is in use`), { fatal: true });
        const info = await this.#container!.inspect();
        if (!info.State.Running) {
          throw Object.assign(new ClusterEngineError(`container node on port ${this.port} exited during start:\n${log.trim().split('\n').slice(-8).join('\n')}`), { fatal: true });
        }
        return false;
      },
      { timeoutMs: this.#options.startupTimeoutMs, intervalMs: 20, what: `container node on port ${this.port} to accept connections`, fatal: (e) => (e as { fatal?: boolean }).fatal === true },
    ).catch(async (err: unknown) => {
      await this.kill();
      throw err;
    });
    this.#state = 'up';
  }

  async kill(): Promise<void> {
    const c = this.#container;
    if (c !== undefined && (this.#state === 'up' || this.#state === 'paused' || this.#state === 'starting')) {
      if (this.#state === 'paused') await c.unpause().catch(() => undefined);
      await c.kill({ signal: 'SIGKILL' }).catch(() => undefined);
      await c.wait().catch(() => undefined);
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

  /** The next start() runs a new container (same /data) on an address this node never had. */
  async moveToNewAddress(): Promise<void> {
    if (this.#state === 'up' || this.#state === 'paused') throw new ClusterEngineError(`node ${this.port} must be killed before it moves to a new address`);
    await this.#removeContainer();
    if (this.#net.mode === 'host') this.#host = this.#ip = nextLoopbackAddress(this.#host);
    else this.#ip = this.#net.network.nextIp();
    this.#writeConf();
  }

  async #removeContainer(): Promise<void> {
    const c = this.#container;
    this.#container = undefined;
    if (c === undefined) return;
    await c.remove({ force: true, v: true }).catch((err: Error) => {
      if (!/no such container|404/i.test(err.message)) throw err;
    });
    untrackContainer(c.id);
  }

  async destroy(): Promise<void> {
    if (this.#state === 'removed') return;
    await this.#removeContainer();
    this.#state = 'removed';
    removeDirSync(this.dir);
    untrackDir(this.dir);
    releasePorts({ port: this.port, busPort: this.busPort });
  }
}
