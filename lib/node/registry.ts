import type { ResolvedOptions } from '../options.js';
import type { TopologySnapshot } from '../topology/snapshot.js';
import { NodeHandle, type NodeEvents, type NodeRole } from './node-handle.js';

/** Names one node: where it is and, when known, its role. */
export interface NodeRef {
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly role?: NodeRole;
}

/**
 * The NodeHandles of one client, by address. Handles are created lazily when
 * something is first sent to a node and closed when the node leaves the map.
 */
export class NodeRegistry {
  readonly #nodes = new Map<string, NodeHandle>();
  readonly #options: ResolvedOptions;
  readonly #events: NodeEvents;
  /** Factory seam for tests and future transports. */
  readonly #create: (host: string, port: number, address: string, role: NodeRole) => NodeHandle;

  constructor(options: ResolvedOptions, events: NodeEvents, create?: (host: string, port: number, address: string, role: NodeRole) => NodeHandle) {
    this.#options = options;
    this.#events = events;
    this.#create = create ?? ((host, port, address, role) => new NodeHandle(host, port, address, role, this.#options, this.#events));
  }

  get(address: string): NodeHandle | undefined {
    return this.#nodes.get(address);
  }

  /** Every open handle. */
  all(): NodeHandle[] {
    return [...this.#nodes.values()];
  }

  /** The handle of node `d` (a map's NodeDescriptor, a redirect target: master unless said), created on first use. */
  node(d: NodeRef): NodeHandle {
    let node = this.#nodes.get(d.address);
    if (node === undefined || node.closed) {
      node = this.#create(d.host, d.port, d.address, d.role ?? 'master');
      this.#nodes.set(d.address, node);
    }
    return node;
  }

  /**
   * Aligns handles with a new snapshot: roles updated, handles of nodes no
   * longer in the map closed (gracefully: written commands get their replies).
   * Returns the addresses removed.
   */
  sync(snapshot: TopologySnapshot): string[] {
    const removed: string[] = [];
    for (const [address, node] of this.#nodes) {
      const d = snapshot.node(address);
      if (d === undefined) {
        this.#nodes.delete(address);
        removed.push(address);
        void node.close(true);
      } else if (node.role !== d.role) {
        node.role = d.role;
      }
    }
    return removed;
  }

  async closeAll(graceful: boolean): Promise<void> {
    const nodes = [...this.#nodes.values()];
    this.#nodes.clear();
    await Promise.all(nodes.map((n) => n.close(graceful)));
  }
}
