import { InvalidArgumentError } from '../errors.js';
import { formatAddress, parseAddress, type HostPort, type NodeAddress } from './addresses.js';
import { describe } from './describe.js';

/**
 * The JSON document that lists a cluster's nodes in a discovery store (a
 * ZooKeeper znode): `{"nodes": ["10.0.0.1:6379", …], "updatedAt": "…"}`.
 * Entries are `"host:port"` strings or `{host, port}`. A bare array of
 * entries is accepted too, for hand-written documents. Shared by the client
 * (which reads it) and the engine (which publishes it).
 */
export interface NodesDocument {
  /** Every node a client may bootstrap from (masters and replicas). */
  readonly nodes: readonly NodeAddress[];
  /** When the publisher wrote it (ISO 8601); informational. */
  readonly updatedAt?: string;
}

/** Parses a nodes document; throws InvalidArgumentError naming what was wrong. */
export function parseNodesDocument(text: string, where = 'nodes document'): HostPort[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(where, `expected JSON like {"nodes": ["host:port", …]}, got ${describe(text.slice(0, 80))} (${(err as Error).message})`);
  }
  const list = Array.isArray(doc) ? doc : doc !== null && typeof doc === 'object' ? (doc as { nodes?: unknown }).nodes : undefined;
  if (!Array.isArray(list) || list.length === 0) {
    throw new InvalidArgumentError(`${where}: nodes`, `expected a non-empty array of "host:port" or {host, port}, got ${describe(list)}`);
  }
  return list.map((n, i) => parseAddress(n as NodeAddress, `${where}: nodes[${i}]`));
}

/** Serializes nodes as a document {@link parseNodesDocument} reads (sorted, so equal sets give equal text). */
export function formatNodesDocument(nodes: readonly HostPort[], updatedAt = new Date()): string {
  const list = [...new Set(nodes.map((n) => formatAddress(n.host, n.port)))].sort();
  return JSON.stringify({ nodes: list, updatedAt: updatedAt.toISOString() } satisfies NodesDocument);
}
