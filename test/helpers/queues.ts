import type { ClusterClient as Client } from '../../lib/index.js';
import { ClusterClient, WorkQueue } from '../../lib/index.js';
import { sharedCluster } from './cluster.js';

/**
 * Mocha hooks for a queue suite on the shared cluster: two connected clients
 * (`client`, `other` — two processes' worth of connections) and `open()`,
 * which makes a 2-partition queue with a 5 s visibility timeout and closes it
 * after the suite. Call inside `describe`.
 */
export function sharedQueues(): { readonly client: Client; readonly other: Client; open<T>(name: string, c?: Client): WorkQueue<T> } {
  let client: ClusterClient | undefined;
  let other: ClusterClient | undefined;
  const queues: WorkQueue<unknown>[] = [];
  before(async () => {
    const cluster = await sharedCluster();
    client = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    other = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await Promise.all([client.connect(), other.connect()]);
  });
  after(async () => {
    await Promise.all(queues.map((q) => q.close({ timeoutMs: 1000 })));
    await Promise.all([client?.quit(), other?.quit()]);
  });
  return {
    get client() {
      return client!;
    },
    get other() {
      return other!;
    },
    open<T>(name: string, c?: Client): WorkQueue<T> {
      const q = new WorkQueue<T>(c ?? client!, name, { partitions: 2, visibilityTimeoutMs: 5000 });
      queues.push(q as WorkQueue<unknown>);
      return q;
    },
  };
}
