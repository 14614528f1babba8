import { TopologyError } from '../errors.js';

/** A node's health as CLUSTER SHARDS reports it (`unknown` when only known from a redirect). */
export type NodeHealth = 'online' | 'failed' | 'loading' | 'unknown';

/** A node as one cluster member described it (announced address, before mapping). */
export interface NodeView {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly role: 'master' | 'replica';
  readonly health: NodeHealth;
  readonly hostname?: string;
}

/** One shard as one cluster member described it. */
export interface ShardView {
  /** Inclusive slot ranges, sorted. Empty for a master without slots. */
  readonly ranges: readonly (readonly [number, number])[];
  readonly master: NodeView;
  readonly replicas: readonly NodeView[];
}

type Reply = unknown;

/**
 * Turns a RESP map reply into a plain record: RESP2 (and ioredis' default
 * reply mapping under RESP3) gives `[k1, v1, k2, v2, …]`; RESP3 with
 * `replyMapping: 'resp3'` gives an object or Map.
 */
function toRecord(reply: Reply): Record<string, Reply> {
  if (Array.isArray(reply)) {
    const out: Record<string, Reply> = {};
    for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = reply[i + 1];
    return out;
  }
  if (reply instanceof Map) return Object.fromEntries([...reply].map(([k, v]) => [String(k), v]));
  if (reply !== null && typeof reply === 'object') return reply as Record<string, Reply>;
  throw new TopologyError(`Unexpected CLUSTER reply element: ${JSON.stringify(reply)}`);
}

function str(v: Reply): string {
  return v === null || v === undefined ? '' : Buffer.isBuffer(v) ? v.toString() : String(v);
}

/**
 * The address clients should use: the preferred `endpoint` when the cluster
 * publishes one, else `ip`; `?` (unknown endpoint) and '' fall back to the
 * address of the node that answered, as the cluster spec prescribes.
 */
function pickHost(endpoint: string, ip: string, answeredBy: string): string {
  if (endpoint && endpoint !== '?') return endpoint;
  if (ip && ip !== '?') return ip;
  return answeredBy;
}

/** Parses a `CLUSTER SHARDS` reply (Redis ≥ 7). `answeredBy` is the host asked. */
export function parseClusterShards(reply: Reply, answeredBy: string): ShardView[] {
  if (!Array.isArray(reply)) throw new TopologyError('CLUSTER SHARDS reply is not an array');
  const shards: ShardView[] = [];
  for (const entry of reply) {
    const shard = toRecord(entry);
    const flat = (shard.slots as Reply[] | undefined) ?? [];
    const ranges: [number, number][] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) ranges.push([Number(flat[i]), Number(flat[i + 1])]);
    let master: NodeView | undefined;
    const replicas: NodeView[] = [];
    for (const n of (shard.nodes as Reply[] | undefined) ?? []) {
      const node = toRecord(n);
      const port = Number(node.port ?? node['tls-port']);
      const view: NodeView = {
        id: str(node.id),
        host: pickHost(str(node.endpoint), str(node.ip), answeredBy),
        port,
        role: str(node.role) === 'master' ? 'master' : 'replica',
        health: healthOf(str(node.health)),
        ...(node.hostname ? { hostname: str(node.hostname) } : {}),
      };
      if (!Number.isInteger(port) || port <= 0) continue;
      if (view.role === 'master' && !master) master = view;
      else replicas.push({ ...view, role: 'replica' });
    }
    // A shard whose master failed and was not replaced has no master entry:
    // it owns slots nobody can serve, so it is left out (the slots stay uncovered).
    if (!master) continue;
    // A failed master without slots is what remains of a node that was failed
    // over: nothing routes to it, so it is not part of the map (and its
    // connection is closed). If it comes back it reappears as a replica.
    if (ranges.length === 0 && master.health === 'failed' && replicas.length === 0) continue;
    ranges.sort((a, b) => a[0] - b[0]);
    shards.push({ ranges, master, replicas });
  }
  return shards;
}

function healthOf(h: string): NodeHealth {
  // Redis 7.0 says "fail", the documentation (and later versions) "failed".
  return h === 'online' ? 'online' : h === 'failed' || h === 'fail' ? 'failed' : h === 'loading' ? 'loading' : 'unknown';
}

/** Parses a `CLUSTER SLOTS` reply (fallback for servers without CLUSTER SHARDS). */
export function parseClusterSlots(reply: Reply, answeredBy: string): ShardView[] {
  if (!Array.isArray(reply)) throw new TopologyError('CLUSTER SLOTS reply is not an array');
  const byMaster = new Map<string, { ranges: [number, number][]; master: NodeView; replicas: Map<string, NodeView> }>();
  for (const entry of reply as Reply[][]) {
    const [start, end, ...nodes] = entry;
    const views = nodes.map((n, i) => {
      const [ip, port, id, meta] = n as Reply[];
      const extra = meta === undefined ? {} : toRecord(meta);
      return {
        id: str(id),
        host: pickHost('', str(ip), answeredBy),
        port: Number(port),
        role: i === 0 ? 'master' : 'replica',
        health: 'unknown',
        ...(extra.hostname ? { hostname: str(extra.hostname) } : {}),
      } satisfies NodeView;
    });
    const master = views[0];
    if (!master) continue;
    const key = master.id || `${master.host}:${master.port}`;
    let shard = byMaster.get(key);
    if (!shard) {
      shard = { ranges: [], master, replicas: new Map() };
      byMaster.set(key, shard);
    }
    shard.ranges.push([Number(start), Number(end)]);
    for (const r of views.slice(1)) shard.replicas.set(r.id || `${r.host}:${r.port}`, r);
  }
  return [...byMaster.values()].map((s) => ({
    ranges: s.ranges.sort((a, b) => a[0] - b[0]),
    master: s.master,
    replicas: [...s.replicas.values()],
  }));
}

/** `cluster_current_epoch` from a `CLUSTER INFO` reply, or 0. */
export function parseCurrentEpoch(info: Reply): number {
  const m = /cluster_current_epoch:(\d+)/.exec(str(info));
  return m ? Number(m[1]) : 0;
}
