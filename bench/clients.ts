/**
 * The clients compared in the router benchmarks, behind one tiny interface,
 * each configured the way its users typically run it.
 */
import { Cluster } from 'ioredis';
import { createCluster } from 'redis';
import { ClusterClient } from '../lib/index.js';
import { Cluster as SlotwiseIoredisCluster } from '../lib/ioredis/index.js';
import type { NodeAddress } from '../testcontainers/index.js';
import { openBareSocket } from './bare-socket.js';

/** What a benchmark needs from a client. */
export interface BenchClient {
  readonly name: string;
  get(key: string): Promise<unknown>;
  set(key: string, value: string): Promise<unknown>;
  close(): Promise<void>;
}

export type ClientKind = 'slotwise' | 'slotwise-ioredis' | 'ioredis' | 'ioredis-autopipeline' | 'node-redis' | 'bare-socket';

export const CLIENT_LABELS: Record<ClientKind, string> = {
  slotwise: 'slotwise',
  'slotwise-ioredis': 'slotwise/ioredis',
  ioredis: 'ioredis Cluster',
  'ioredis-autopipeline': 'ioredis Cluster + autopipelining',
  'node-redis': 'node-redis cluster',
  'bare-socket': 'bare net.Socket per master (ceiling)',
};

/** A client's get/set behind {@link BenchClient}; `close` is how that client shuts down cleanly. */
function adapt(
  name: string,
  c: { get(key: string): Promise<unknown>; set(key: string, value: string): Promise<unknown> },
  close: () => Promise<unknown>,
): BenchClient {
  return {
    name,
    get: (k) => c.get(k),
    set: (k, v) => c.set(k, v),
    close: async () => {
      await close();
    },
  };
}

export async function openClient(kind: ClientKind, roots: readonly NodeAddress[]): Promise<BenchClient> {
  const name = CLIENT_LABELS[kind];
  switch (kind) {
    case 'slotwise': {
      const c = new ClusterClient({ rootNodes: roots, commandTimeoutMs: 10_000 });
      await c.connect();
      return adapt(name, c, () => c.quit());
    }
    case 'slotwise-ioredis': {
      // The drop-in, configured as the ioredis rows are (same startup nodes, lazyConnect).
      const c = new SlotwiseIoredisCluster(roots.map((r) => ({ host: r.host, port: r.port })), {
        lazyConnect: true,
        redisOptions: { commandTimeout: 10_000 },
      });
      c.on('error', () => undefined);
      await c.connect();
      return adapt(name, c, () => c.quit());
    }
    case 'ioredis':
    case 'ioredis-autopipeline': {
      const c = new Cluster(roots.map((r) => ({ host: r.host, port: r.port })), {
        enableAutoPipelining: kind === 'ioredis-autopipeline',
        lazyConnect: true,
      });
      c.on('error', () => undefined);
      await c.connect();
      return adapt(name, c, () => c.quit().catch(() => c.disconnect()));
    }
    case 'bare-socket': {
      const c = await openBareSocket(roots);
      return adapt(name, c, c.close);
    }
    case 'node-redis': {
      const c = createCluster({ rootNodes: roots.map((r) => ({ url: `redis://${r.host}:${r.port}` })) });
      c.on('error', () => undefined);
      await c.connect();
      return adapt(name, c, () => c.close().catch(() => c.destroy()));
    }
  }
}
