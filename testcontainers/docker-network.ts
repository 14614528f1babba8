/**
 * The private bridge network of one containerised cluster. Nodes get IPs the
 * engine chooses, so a node can be restarted on an IP it never had (the
 * default bridge hands a freed IP straight to the next container, so "restart
 * on another IP" would often land on the same one). Only the published ports
 * (127.0.0.1) are reached from this machine; container IPs are for the nodes.
 */
import { ClusterEngineError } from '../lib/errors.js';
import type { Dockerode } from './docker.js';
import { trackContainer, untrackContainer, type DockerEndpoint } from './process-registry.js';

interface NetworkApi {
  createNetwork(opts: Record<string, unknown>): Promise<{ id: string; inspect(): Promise<{ IPAM: { Config: Array<{ Subnet?: string }> } }>; remove(): Promise<unknown> }>;
  getNetwork(id: string): { remove(): Promise<unknown> };
}

/** A user-defined bridge network with an engine-managed address plan. */
export class DockerNetwork {
  readonly name: string;
  readonly id: string;
  readonly #docker: Dockerode & NetworkApi;
  readonly #prefix: string;
  #next = 2;

  private constructor(docker: Dockerode & NetworkApi, name: string, id: string, prefix: string) {
    this.#docker = docker;
    this.name = name;
    this.id = id;
    this.#prefix = prefix;
  }

  /**
   * Creates the network. The subnet is the one Docker itself picks from its
   * pools (so it collides with nothing it knows of), pinned on a second create
   * because fixed container IPs need a user-configured subnet.
   */
  static async create(dockerode: Dockerode, endpoint: DockerEndpoint): Promise<DockerNetwork> {
    const docker = dockerode as Dockerode & NetworkApi;
    const name = `slotwise-${process.pid}-${Date.now().toString(36)}`;
    const probe = await docker.createNetwork({ Name: name, Driver: 'bridge', Labels: { 'org.slotwise.engine': String(process.pid) } });
    trackContainer(probe.id, endpoint, 'network');
    const subnet = (await probe.inspect()).IPAM.Config[0]?.Subnet;
    await probe.remove();
    untrackContainer(probe.id, 'network');
    const m = /^(\d+\.\d+\.\d+)\.0\/(\d+)$/.exec(subnet ?? '');
    if (m === null || Number(m[2]) > 24) throw new ClusterEngineError(`unexpected subnet ${String(subnet)} for Docker network ${name}`);
    const net = await docker.createNetwork({
      Name: name,
      Driver: 'bridge',
      Labels: { 'org.slotwise.engine': String(process.pid) },
      IPAM: { Config: [{ Subnet: subnet }] },
    });
    trackContainer(net.id, endpoint, 'network');
    return new DockerNetwork(docker, name, net.id, m[1]!);
  }

  /** An IP of this network no node has had yet (x.y.z.2 …254). */
  nextIp(): string {
    if (this.#next > 254) throw new ClusterEngineError(`Docker network ${this.name} has no unused address left`);
    return `${this.#prefix}.${this.#next++}`;
  }

  /** Removes the network (after its containers). */
  async remove(): Promise<void> {
    await this.#docker.getNetwork(this.id).remove().catch(() => undefined);
    untrackContainer(this.id, 'network');
  }
}
