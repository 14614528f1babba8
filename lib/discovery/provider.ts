import type { HostPort } from '../core/addresses.js';

/**
 * Where a client finds its cluster's nodes when they are not hard-coded in
 * `rootNodes`: a ZooKeeper znode ({@link zooKeeperDiscovery}), a DNS SRV
 * record ({@link dnsSrvDiscovery}), or your own store.
 *
 * The client calls `resolve()` to bootstrap, and again whenever every node it
 * knows is unreachable (the whole cluster moved); `watch()`, when present,
 * pushes changes so the client can follow a move before the old nodes go.
 */
export interface DiscoveryProvider {
  /** A short name for errors and logs, e.g. `zookeeper:/slotwise/orders`. */
  readonly name: string;
  /** The current seed nodes. Rejects when the source cannot be read now. */
  resolve(): Promise<readonly HostPort[]>;
  /**
   * Calls `onChange` with the new seed list whenever the source changes,
   * `onError` for a document that cannot be used (the client keeps its
   * current seeds). Returns a function that stops watching.
   */
  watch?(onChange: (nodes: readonly HostPort[]) => void, onError: (err: Error) => void): () => void;
}
