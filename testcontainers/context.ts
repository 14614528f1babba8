/**
 * The engine's internal state of one started cluster: its nodes, their admin
 * connections, and the queries every operation shares (who is live, what a
 * node sees, is the cluster healthy). Public API lives in started-cluster.ts.
 */
import { ClusterEngineError, InvalidArgumentError } from '../lib/errors.js';
import { AdminPool, errorText, retryUntil, type NodeAuth } from './admin.js';
import {
  healthProblems,
  parseClusterNodes,
  parseInfo,
  type ClusterNodesEntry,
  type NodeObservation,
} from './cluster-state.js';
import { dockerClient } from './docker.js';
import { ensureImage } from './docker-image.js';
import { DockerNetwork } from './docker-network.js';
import { DockerRedisNode, endpointOf, type DockerNetworking } from './docker-node.js';
import { PortInUseError, RedisNodeProcess, type EngineNode, type NodeProcessOptions } from './node-process.js';
import { allocateNodePorts, type PortPolicy } from './ports.js';
import { removeDirSync, untrackDir } from './process-registry.js';
import type { TlsClientOptions, TlsFiles, TlsMaterial } from './tls.js';

/** Everything the builder resolved; frozen before start. */
export interface EngineSettings {
  readonly masters: number;
  readonly replicasPerMaster: number;
  readonly nodeTimeoutMs: number;
  readonly auth?: NodeAuth;
  readonly appendOnly: boolean;
  readonly ports: PortPolicy;
  /** redis-server binary (process runtime). */
  readonly bin: string;
  readonly startupTimeoutMs: number;
  /** Where nodes run. */
  readonly runtime: 'process' | 'docker';
  /** Container networking (docker runtime): the host's network, or a private bridge network with published ports. */
  readonly network: 'host' | 'bridge';
  /** Image for container nodes. */
  readonly image: string;
  /** Nodes announce `node-<i>.<domain>` as their preferred endpoint; undefined = IPs. */
  readonly hostnameDomain?: string;
  /** TLS-only nodes (`withTls()`): the generated material, its files and whether clients need a certificate. */
  readonly tls?: EngineTls;
}

/** TLS of a cluster started `withTls()`. */
export interface EngineTls {
  readonly mutual: boolean;
  readonly material: TlsMaterial;
  readonly files: TlsFiles;
}

/** One node we own plus what we last learnt about it. */
export interface ManagedNode {
  readonly proc: EngineNode;
  readonly id: string;
  /** Role from the last view that mentioned it. */
  role: 'master' | 'replica';
  /** Name it announces (`withHostnames()`). */
  readonly hostname?: string;
}

const PORT_RETRIES = 5;

export class EngineContext {
  readonly settings: EngineSettings;
  readonly admin: AdminPool;
  readonly #nodes = new Map<number, ManagedNode>();
  #nextIndex = 0;
  #networking: DockerNetworking | undefined;

  constructor(settings: EngineSettings) {
    this.settings = settings;
    this.admin = new AdminPool((port) => this.#nodes.get(port)?.proc.host ?? this.#pending.get(port) ?? '127.0.0.1', settings.auth, this.clientTls);
  }

  /** What clients (the engine's admin connections included) pass as TLS options; undefined without TLS. */
  get clientTls(): TlsClientOptions | undefined {
    const t = this.settings.tls;
    return t === undefined ? undefined : { ca: t.material.ca, cert: t.material.clientCert, key: t.material.clientKey };
  }

  /** Hosts of nodes started but not yet registered (their first CLUSTER MYID). */
  readonly #pending = new Map<number, string>();

  /** Container runtime only: the image (built or pulled when absent) and the bridge network. */
  async prepare(): Promise<void> {
    if (this.settings.runtime !== 'docker' || this.#networking !== undefined) return;
    await ensureImage(this.settings.image, this.settings.bin || undefined);
    if (this.settings.network === 'host') {
      this.#networking = { mode: 'host' };
      return;
    }
    const docker = (await dockerClient()).container.dockerode;
    this.#networking = { mode: 'bridge', network: await DockerNetwork.create(docker, endpointOf(docker)) };
  }

  /** The name node `index` announces, when hostnames are on. */
  hostnameOf(index: number): string | undefined {
    const d = this.settings.hostnameDomain;
    return d === undefined ? undefined : `node-${index}.${d}`;
  }

  /** Every node not removed, in creation order. */
  all(): ManagedNode[] {
    return [...this.#nodes.values()];
  }

  /** Nodes that answer (not killed, not paused). */
  live(): ManagedNode[] {
    return this.all().filter((n) => n.proc.state === 'up');
  }

  /** Default wait bound: generous, since other work may share the CPU. */
  get defaultTimeoutMs(): number {
    return 30_000 + 3 * this.settings.nodeTimeoutMs;
  }

  /**
   * The node on `port`, for operation `op`.
   * @throws InvalidArgumentError naming the known ports when `port` is not ours.
   */
  node(port: number, op: string): ManagedNode {
    const n = this.#nodes.get(port);
    if (n === undefined) {
      const known = [...this.#nodes.keys()].join(', ');
      throw new InvalidArgumentError('port', `${op}(${String(port)}): no node of this cluster listens on port ${String(port)}; known ports: ${known}`);
    }
    return n;
  }

  /** The node on `port`, which must be running and answering. */
  liveNode(port: number, op: string): ManagedNode {
    const n = this.node(port, op);
    if (n.proc.state !== 'up') throw new InvalidArgumentError('port', `${op}(${port}): node is ${n.proc.state}, not up`);
    return n;
  }

  byId(id: string): ManagedNode | undefined {
    return this.all().find((n) => n.id === id);
  }

  /** Starts one new redis-server, retrying with fresh ports when one was taken meanwhile. */
  async spawnNode(): Promise<ManagedNode> {
    const index = this.#nextIndex++;
    const t = this.settings.tls;
    const tls = t && { certFile: t.files.nodeCertFile, keyFile: t.files.nodeKeyFile, caFile: t.files.caFile, mutual: t.mutual };
    let lastError: unknown;
    for (let attempt = 0; attempt < PORT_RETRIES; attempt++) {
      const ports = await allocateNodePorts(this.settings.ports, index);
      const options: NodeProcessOptions = {
        bin: this.settings.bin,
        ports,
        nodeTimeoutMs: this.settings.nodeTimeoutMs,
        appendOnly: this.settings.appendOnly,
        startupTimeoutMs: this.settings.startupTimeoutMs,
        ...(this.settings.auth ? { auth: this.settings.auth } : {}),
        ...(this.hostnameOf(index) !== undefined ? { hostname: this.hostnameOf(index)! } : {}),
        ...(tls ? { tls } : {}),
      };
      const networking = this.#networking;
      const proc: EngineNode =
        this.settings.runtime === 'docker' && networking !== undefined
          ? new DockerRedisNode(options, this.settings.image, networking)
          : RedisNodeProcess.create(options);
      this.#pending.set(proc.port, proc.host);
      try {
        await proc.start();
      } catch (err) {
        this.#pending.delete(proc.port);
        await proc.destroy();
        lastError = err;
        if (err instanceof PortInUseError && this.settings.ports.kind !== 'fixed') continue;
        throw err;
      }
      let id: string;
      try {
        id = String(await this.admin.call(proc.port, 'CLUSTER', 'MYID'));
      } catch (err) {
        await proc.destroy();
        throw new ClusterEngineError(`node ${proc.port} started but does not answer: ${errorText(err)}`, { cause: err });
      } finally {
        this.#pending.delete(proc.port);
      }
      const node: ManagedNode = { proc, id, role: 'master', ...(options.hostname !== undefined ? { hostname: options.hostname } : {}) };
      this.#nodes.set(proc.port, node);
      return node;
    }
    throw new ClusterEngineError(`could not start a node: ports kept being taken (${PORT_RETRIES} attempts)`, { cause: lastError });
  }

  /** Forgets a node after its process and dir are gone. */
  discard(port: number): void {
    this.admin.drop(port);
    this.#nodes.delete(port);
  }

  /** `CLUSTER NODES` of the node on `port`, parsed. */
  async view(port: number): Promise<ClusterNodesEntry[]> {
    return parseClusterNodes(String(await this.admin.call(port, 'CLUSTER', 'NODES')));
  }

  /** A view from the first live node that answers (preferring ones other than `avoid`). */
  async anyView(avoid?: number): Promise<ClusterNodesEntry[]> {
    const candidates = this.live().sort((a, b) => Number(a.proc.port === avoid) - Number(b.proc.port === avoid));
    let last: unknown;
    for (const n of candidates) {
      try {
        return await this.view(n.proc.port);
      } catch (err) {
        last = err;
      }
    }
    throw new ClusterEngineError(`no live node answered CLUSTER NODES${last ? `: ${errorText(last)}` : ''}`, { cause: last });
  }

  /** Queries every live node once and records the roles it reports about itself. */
  async observe(): Promise<NodeObservation[]> {
    return Promise.all(
      this.live().map(async (n) => {
        const port = n.proc.port;
        const [nodes, info] = await Promise.all([this.admin.call(port, 'CLUSTER', 'NODES'), this.admin.call(port, 'CLUSTER', 'INFO')]);
        const view = parseClusterNodes(String(nodes));
        const me = view.find((e) => e.myself);
        if (me !== undefined) n.role = me.role;
        let masterLinkStatus: string | undefined;
        if (me?.role === 'replica') {
          masterLinkStatus = parseInfo(String(await this.admin.call(port, 'INFO', 'replication'))).master_link_status;
        }
        return { port, view, clusterInfo: parseInfo(String(info)), ...(masterLinkStatus ? { masterLinkStatus } : {}) };
      }),
    );
  }

  /** Problems keeping the cluster from being healthy right now (empty = healthy). */
  async healthProblems(): Promise<string[]> {
    const live = this.live();
    if (live.length === 0) return ['no live node'];
    return healthProblems(await this.observe(), new Set(live.map((n) => n.id)));
  }

  /**
   * Polls until {@link healthProblems} is empty on two consecutive polls: one
   * clean snapshot can fall between two gossip updates of the same change.
   */
  async waitForHealthy(timeoutMs = this.defaultTimeoutMs, signal?: AbortSignal): Promise<void> {
    let clean = 0;
    await retryUntil(
      async () => {
        const problems = await this.healthProblems();
        if (problems.length > 0) {
          clean = 0;
          throw new Error(problems.slice(0, 6).join('; '));
        }
        return ++clean >= 2;
      },
      { timeoutMs, intervalMs: 50, what: 'the cluster to become healthy', ...(signal ? { signal } : {}) },
    );
  }

  /** Polls until every live node knows every id in `ids` as a full member (no handshake/fail flags). */
  async waitUntilKnown(ids: readonly string[], timeoutMs = this.defaultTimeoutMs): Promise<void> {
    await retryUntil(
      async () => {
        for (const n of this.live()) {
          const view = await this.view(n.proc.port);
          for (const id of ids) {
            const e = view.find((v) => v.id === id);
            if (e === undefined || e.incomplete || e.failed || e.suspected) {
              throw new Error(`node ${n.proc.port} sees ${id.slice(0, 8)} as ${e ? e.flags.join(',') : 'unknown'}`);
            }
          }
        }
        return true;
      },
      { timeoutMs, intervalMs: 30, what: 'every node to know every other node' },
    );
  }

  /** Polls until every live node flags `id` as failed (after a kill). */
  async waitUntilFlaggedFailed(id: string, timeoutMs = this.defaultTimeoutMs): Promise<void> {
    await retryUntil(
      async () => {
        for (const n of this.live()) {
          const e = (await this.view(n.proc.port)).find((v) => v.id === id);
          if (e !== undefined && !e.failed) throw new Error(`node ${n.proc.port} still sees ${id.slice(0, 8)} as ${e.flags.join(',')}`);
        }
        return true;
      },
      { timeoutMs, intervalMs: 50, what: `every live node to flag ${id.slice(0, 8)} as failed` },
    );
  }

  /** Introduces `node` to the cluster through a live member. */
  async meet(node: ManagedNode): Promise<void> {
    const via = this.live().find((n) => n !== node);
    if (via === undefined) throw new ClusterEngineError('no live node to introduce the new node to');
    await this.admin.call(via.proc.port, 'CLUSTER', 'MEET', node.proc.announcedIp, node.proc.port, node.proc.busPort);
  }

  /** `CLUSTER REPLICATE`, retried while the replica has not yet heard of the master through gossip. */
  async replicate(replica: ManagedNode, masterId: string, timeoutMs = this.defaultTimeoutMs): Promise<void> {
    await retryUntil(
      async () => {
        try {
          await this.admin.call(replica.proc.port, 'CLUSTER', 'REPLICATE', masterId);
          return true;
        } catch (err) {
          if (/Unknown node/i.test(errorText(err))) throw err;
          throw Object.assign(err as Error, { fatal: true });
        }
      },
      { timeoutMs, intervalMs: 30, what: `node ${replica.proc.port} to replicate ${masterId.slice(0, 8)}`, fatal: (e) => (e as { fatal?: boolean }).fatal === true },
    );
    replica.role = 'replica';
  }

  /** Polls `ROLE` on each port every ~20 ms; resolves with the first that reports master and when. */
  async waitForMaster(ports: readonly number[], timeoutMs: number): Promise<{ port: number; at: number }> {
    return retryUntil(
      async () => {
        for (const port of ports) {
          const role = (await this.admin.call(port, 'ROLE').catch(() => [])) as unknown[];
          if (role[0] === 'master') return { port, at: Date.now() };
        }
        return undefined;
      },
      { timeoutMs, intervalMs: 20, what: `one of ${ports.join(', ')} to become master` },
    );
  }

  /** Stops every process, deletes every dir, closes connections. */
  async destroyAll(): Promise<void> {
    this.admin.close();
    await Promise.all(this.all().map((n) => n.proc.destroy()));
    this.#nodes.clear();
    const net = this.#networking;
    this.#networking = undefined;
    if (net?.mode === 'bridge') await net.network.remove();
    const tlsDir = this.settings.tls?.files.dir;
    if (tlsDir !== undefined) {
      removeDirSync(tlsDir);
      untrackDir(tlsDir);
    }
  }
}
