/**
 * Copies every key of one cluster into another (SCAN + DUMP on each master of
 * the source, RESTORE … REPLACE through a client of the target): what an
 * operator does when a cluster is rebuilt on new machines.
 */
import { Redis } from 'ioredis';
import type { ClusterClient } from '../../lib/index.js';
import type { StartedRedisCluster } from '../../testcontainers/index.js';

export async function copyData(from: StartedRedisCluster, to: ClusterClient): Promise<number> {
  let copied = 0;
  for (const { host, port } of from.getRootNodes()) {
    const source = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await source.connect();
      let cursor = '0';
      do {
        const [next, keys] = await source.scan(cursor, 'COUNT', 500);
        cursor = next;
        await Promise.all(
          keys.map(async (key) => {
            const dump = await source.dumpBuffer(key);
            if (dump === null) return;
            await to.call('RESTORE', key, '0', dump, 'REPLACE');
            copied++;
          }),
        );
      } while (cursor !== '0');
    } finally {
      source.disconnect();
    }
  }
  return copied;
}
