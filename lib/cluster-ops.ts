import { InvalidArgumentError } from './errors.js';
import { describe } from './options.js';
import type { NodeHandle } from './node/node-handle.js';
import type { ExecOptions, RouteOptions } from './router/request.js';
import { ScanIterator, type ScanHost, type ScanOptions } from './scan/scan-iterator.js';
import type { TopologySnapshot } from './topology/snapshot.js';

export type NodeRoleFilter = 'master' | 'replica' | 'all';

/** What cluster-wide operations need from the client. */
export interface ClusterOpsHost {
  /** Connects when needed. */
  ready(): Promise<void>;
  current(): TopologySnapshot | undefined;
  refresh(reason: string): Promise<unknown>;
  nextChange(): Promise<void>;
  handle(address: string, host: string, port: number, role: 'master' | 'replica'): NodeHandle;
  nodes(role: NodeRoleFilter): NodeHandle[];
  execute(name: string, args: readonly unknown[], opts: ExecOptions, route: RouteOptions): Promise<unknown>;
}

/** Resolves after `ms`, or earlier when `change` (a topology change) resolves. */
export function pauseUntilChange(change: Promise<void>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    void change.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

const ROLES = new Set<NodeRoleFilter>(['master', 'replica', 'all']);

/**
 * Operations over the whole cluster rather than one slot: per-node fan-out
 * and the cluster-wide SCAN. Kept out of the facade; uses the router only
 * through its host.
 */
export class ClusterOps {
  readonly #host: ClusterOpsHost;
  readonly #scanHost: ScanHost;

  constructor(host: ClusterOpsHost) {
    this.#host = host;
    this.#scanHost = {
      snapshot: async (fresh) => {
        await host.ready();
        if (fresh) await host.refresh('scan').catch(() => undefined);
        return host.current();
      },
      node: (address, h, port) => host.handle(address, h, port, 'master'),
      sendTo: (node, name, args, buffer) => host.execute(name, args, buffer ? { buffer } : {}, { node }),
      pause: (ms) => pauseUntilChange(host.nextChange(), ms),
    };
  }

  /** See ClusterClient.scanIterator. */
  scanIterator(opts?: ScanOptions): ScanIterator {
    return new ScanIterator(this.#scanHost, opts);
  }

  /** See ClusterClient.forEachNode. */
  async forEachNode<T>(role: NodeRoleFilter, fn: (node: NodeHandle) => T | Promise<T>): Promise<T[]> {
    if (!ROLES.has(role)) throw new InvalidArgumentError('role', `expected 'master', 'replica' or 'all', got ${describe(role)}`);
    if (typeof fn !== 'function') throw new InvalidArgumentError('fn', `expected a function (node) => …, got ${describe(fn)}`);
    await this.#host.ready();
    return Promise.all(this.#host.nodes(role).map(async (node) => fn(node)));
  }
}
