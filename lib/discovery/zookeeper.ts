import type { HostPort } from '../core/addresses.js';
import { parseNodesDocument } from '../core/nodes-document.js';
import { DiscoveryError } from '../errors.js';
import type { DiscoveryProvider } from './provider.js';
import type { ZooKeeperStore } from './zookeeper-store.js';

/**
 * Discovery from a znode holding a nodes document
 * (`{"nodes": ["host:port", …]}`, see docs/16-discovery.md), watched: a new
 * document moves the client's seeds at once, and when the cluster moved
 * (no known node left in the new list) the client switches to it.
 *
 * ```ts
 * const zk = new ZooKeeperStore('127.0.0.1:2181');
 * const client = new ClusterClient({ discovery: zooKeeperDiscovery(zk, '/slotwise/orders/nodes') });
 * ```
 * The store is yours to close (after `client.quit()`); one store can serve
 * many clients and configuration watches.
 */
export function zooKeeperDiscovery(store: ZooKeeperStore, path: string): DiscoveryProvider {
  const name = `zookeeper:${store.connect}${path}`;
  return {
    name,
    async resolve(): Promise<readonly HostPort[]> {
      const text = await store.read(path);
      if (text === undefined) throw new DiscoveryError(`${name}: the znode does not exist`);
      return parseNodesDocument(text, name);
    },
    watch(onChange, onError) {
      return store.watch(
        path,
        (text) => {
          if (text === undefined) return; // deleted: keep what we have
          try {
            onChange(parseNodesDocument(text, name));
          } catch (err) {
            onError(err as Error);
          }
        },
        onError,
      );
    },
  };
}
