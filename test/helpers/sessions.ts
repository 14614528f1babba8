/** Helpers for session tests: a connected client on the shared cluster, unique prefixes, key census. */
import { randomBytes } from 'node:crypto';
import { ClusterClient, slotOf } from '../../lib/index.js';
import { sharedCluster } from './cluster.js';

/** A prefix no other test (or engineer) uses on the shared cluster. */
export function uniquePrefix(what: string): string {
  return `t:${what}:${randomBytes(4).toString('hex')}:`;
}

export async function connectedClient(): Promise<ClusterClient> {
  const cluster = await sharedCluster();
  const client = new ClusterClient({ rootNodes: cluster.getRootNodes() });
  await client.connect();
  return client;
}

/** Every key starting with `prefix`, on every master (raw SCAN, independent of the code under test). */
export async function keysUnder(client: ClusterClient, prefix: string): Promise<string[]> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
  const keys = new Set<string>();
  for (const node of client.nodes('master')) {
    let cursor = '0';
    do {
      const [next, batch] = (await node.call('scan', cursor, 'MATCH', pattern, 'COUNT', 1000)) as [string, string[]];
      cursor = String(next);
      for (const k of batch) keys.add(k);
    } while (cursor !== '0');
  }
  return [...keys];
}

/** `host:port` of the master serving `key`. */
export function masterOf(client: ClusterClient, key: string): string {
  return client.topology!.shardOf(slotOf(key))!.master.address;
}
