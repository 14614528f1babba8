/**
 * Pure parsing of `CLUSTER NODES` / `CLUSTER INFO` and the health rules of the
 * engine. No I/O here, so every rule is unit-tested on captured replies.
 */

/** Number of hash slots in a Redis Cluster. */
export const SLOT_COUNT = 16_384;

/** An inclusive slot range `[start, end]`. */
export type SlotRange = [start: number, end: number];

/** One line of `CLUSTER NODES`, as seen by the node that answered. */
export interface ClusterNodesEntry {
  /** 40-hex node id. */
  readonly id: string;
  /** Announced IP ('' while unknown). */
  readonly host: string;
  /** Client port. */
  readonly port: number;
  /** Cluster bus port (node-to-node gossip). */
  readonly busPort: number;
  /** Announced hostname, when the node has one. */
  readonly hostname?: string;
  /** Raw flags, e.g. `['myself', 'slave']`, `['master', 'fail']`. */
  readonly flags: readonly string[];
  /** True for the line describing the node that answered. */
  readonly myself: boolean;
  /** `slave` is reported as `replica`. */
  readonly role: 'master' | 'replica';
  /** Id of the master this replica follows; null for masters. */
  readonly masterId: string | null;
  /** The node's config epoch (the newest epoch wins a slot conflict). */
  readonly configEpoch: number;
  /** State of the answering node's bus link to this node. */
  readonly linkState: 'connected' | 'disconnected';
  /** Owned slots, ranges sorted ascending. Migration markers are NOT ownership. */
  readonly slots: readonly SlotRange[];
  /** `[slot->-id]` markers: slots this node is migrating away. */
  readonly migrating: ReadonlyArray<{
    /** The slot. */
    slot: number;
    /** Id of the node it goes to. */
    to: string;
  }>;
  /** `[slot-<-id]` markers: slots this node is importing. */
  readonly importing: ReadonlyArray<{
    /** The slot. */
    slot: number;
    /** Id of the node it comes from. */
    from: string;
  }>;
  /** `fail` flag: the cluster agreed this node is down. */
  readonly failed: boolean;
  /** `fail?` flag: the answering node suspects it is down. */
  readonly suspected: boolean;
  /** `handshake` or `noaddr`: not (yet) a proper member. */
  readonly incomplete: boolean;
}

/** Parses the reply of `CLUSTER NODES`. Unknown flags are kept, never dropped. */
export function parseClusterNodes(reply: string): ClusterNodesEntry[] {
  const entries: ClusterNodesEntry[] = [];
  for (const rawLine of reply.split('\n')) {
    const line = rawLine.trim();
    if (line === '') continue;
    const fields = line.split(' ');
    if (fields.length < 8) throw new Error(`Malformed CLUSTER NODES line: ${line}`);
    const [id, address, flagField, master, , , epoch, link, ...slotFields] = fields as [string, string, string, string, string, string, string, string, ...string[]];
    const flags = flagField.split(',').filter((f) => f !== '' && f !== 'noflags');
    const { host, port, busPort, hostname } = parseAddress(address);
    const slots: SlotRange[] = [];
    const migrating: Array<{ slot: number; to: string }> = [];
    const importing: Array<{ slot: number; from: string }> = [];
    for (const s of slotFields) {
      if (s.startsWith('[')) {
        const m = /^\[(\d+)-([<>])-([0-9a-f]+)\]$/.exec(s);
        if (m === null) continue;
        if (m[2] === '>') migrating.push({ slot: Number(m[1]), to: m[3] as string });
        else importing.push({ slot: Number(m[1]), from: m[3] as string });
        continue;
      }
      const dash = s.indexOf('-');
      const start = Number(dash === -1 ? s : s.slice(0, dash));
      const end = Number(dash === -1 ? s : s.slice(dash + 1));
      if (Number.isInteger(start) && Number.isInteger(end)) slots.push([start, end]);
    }
    slots.sort((a, b) => a[0] - b[0]);
    const isReplica = flags.includes('slave') || flags.includes('replica');
    entries.push({
      id,
      host,
      port,
      busPort,
      ...(hostname !== undefined ? { hostname } : {}),
      flags,
      myself: flags.includes('myself'),
      role: isReplica ? 'replica' : 'master',
      masterId: master === '-' ? null : master,
      configEpoch: Number(epoch),
      linkState: link === 'connected' ? 'connected' : 'disconnected',
      slots,
      migrating,
      importing,
      failed: flags.includes('fail'),
      suspected: flags.includes('fail?'),
      incomplete: flags.includes('handshake') || flags.includes('noaddr'),
    });
  }
  return entries;
}

/** `ip:port@cport[,hostname]`; ip may be empty (`:0@0`) or IPv6. */
function parseAddress(address: string): { host: string; port: number; busPort: number; hostname?: string } {
  const [hostPort = '', hostname] = address.split(',', 2);
  const at = hostPort.lastIndexOf('@');
  const main = at === -1 ? hostPort : hostPort.slice(0, at);
  const busPort = at === -1 ? 0 : Number(hostPort.slice(at + 1));
  const colon = main.lastIndexOf(':');
  const host = main.slice(0, colon);
  const port = Number(main.slice(colon + 1));
  return { host, port, busPort, ...(hostname ? { hostname } : {}) };
}

/** Parses `CLUSTER INFO` or `INFO` text into key → value. */
export function parseInfo(reply: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of reply.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/**
 * Slot owner ids as seen in one `CLUSTER NODES` view: `owners[slot]` is the
 * id of the master owning it, or undefined when uncovered.
 */
export function slotOwners(view: readonly ClusterNodesEntry[]): Array<string | undefined> {
  const owners: Array<string | undefined> = new Array(SLOT_COUNT).fill(undefined);
  for (const node of view) {
    if (node.role !== 'master') continue;
    for (const [start, end] of node.slots) {
      for (let s = start; s <= end && s < SLOT_COUNT; s++) owners[s] = node.id;
    }
  }
  return owners;
}

/** Compresses `owners` into ranges `start-end=id`, the slot map's canonical text. */
export function slotMapSignature(owners: ReadonlyArray<string | undefined>): string {
  const parts: string[] = [];
  let start = 0;
  for (let s = 1; s <= owners.length; s++) {
    if (s === owners.length || owners[s] !== owners[start]) {
      parts.push(`${start}-${s - 1}=${owners[start] ?? 'none'}`);
      start = s;
    }
  }
  return parts.join(',');
}

/** Ranges of slots owned by `id` in `owners`. */
export function rangesOf(owners: ReadonlyArray<string | undefined>, id: string): SlotRange[] {
  const ranges: SlotRange[] = [];
  for (let s = 0; s < owners.length; s++) {
    if (owners[s] !== id) continue;
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last[1] === s - 1) last[1] = s;
    else ranges.push([s, s]);
  }
  return ranges;
}

/** Count of slots in a list of ranges. */
export function countSlots(ranges: readonly SlotRange[]): number {
  return ranges.reduce((n, [a, b]) => n + (b - a + 1), 0);
}

/** Splits `SLOT_COUNT` slots into `n` contiguous, near-equal ranges. */
export function splitSlots(n: number): SlotRange[] {
  const ranges: SlotRange[] = [];
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = Math.floor(((i + 1) * SLOT_COUNT) / n) - 1;
    ranges.push([start, end]);
    start = end + 1;
  }
  return ranges;
}

/** Ending of the health problem an open slot (IMPORTING/MIGRATING) causes. */
export const OPEN_SLOT_PROBLEM = 'has open slot migrations';

/** What one live node said during a health check. */
export interface NodeObservation {
  readonly port: number;
  /** Parsed `CLUSTER NODES` of this node. */
  readonly view: readonly ClusterNodesEntry[];
  /** Parsed `CLUSTER INFO`. */
  readonly clusterInfo: Record<string, string>;
  /** `master_link_status` from `INFO replication`, for replicas. */
  readonly masterLinkStatus?: string;
}

/**
 * The engine's definition of a healthy cluster, evaluated over the views of
 * every live node (`expectedIds`: ids of all live nodes). Returns the list of
 * problems; empty means healthy:
 * every node says `cluster_state:ok`; all slots are covered by live masters;
 * every node reports the same slot map and the same roles; every node knows
 * every live node without fail/handshake flags; no slot is importing or
 * migrating; every replica's link to its master is up.
 */
export function healthProblems(observations: readonly NodeObservation[], expectedIds: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  let reference: { port: number; signature: string } | undefined;
  for (const obs of observations) {
    const at = `node ${obs.port}`;
    if (obs.clusterInfo.cluster_state !== 'ok') problems.push(`${at}: cluster_state:${obs.clusterInfo.cluster_state ?? '?'}`);
    const byId = new Map(obs.view.map((n) => [n.id, n]));
    for (const id of expectedIds) {
      const n = byId.get(id);
      if (n === undefined) problems.push(`${at}: does not know node ${id.slice(0, 8)}`);
      else if (n.incomplete || n.failed || n.suspected) problems.push(`${at}: flags ${n.id.slice(0, 8)} (${n.port}) as ${n.flags.join(',')}`);
    }
    const owners = slotOwners(obs.view);
    const uncovered = owners.filter((o) => o === undefined).length;
    if (uncovered > 0) problems.push(`${at}: ${uncovered} slots uncovered`);
    const deadOwners = new Set(owners.filter((o): o is string => o !== undefined && !expectedIds.has(o)));
    if (deadOwners.size > 0) problems.push(`${at}: slots owned by nodes that are not live: ${[...deadOwners].map((i) => i.slice(0, 8)).join(', ')}`);
    for (const n of obs.view) {
      if (n.migrating.length > 0 || n.importing.length > 0) problems.push(`${at}: ${n.port} ${OPEN_SLOT_PROBLEM}`);
    }
    const me = obs.view.find((n) => n.myself);
    if (me?.role === 'replica' && obs.masterLinkStatus !== 'up') problems.push(`${at}: master_link_status:${obs.masterLinkStatus ?? '?'}`);
    const roles = obs.view
      .filter((n) => expectedIds.has(n.id))
      .map((n) => `${n.id}:${n.role}:${n.masterId ?? '-'}`)
      .sort()
      .join(';');
    const signature = `${slotMapSignature(owners)}|${roles}`;
    if (reference === undefined) reference = { port: obs.port, signature };
    else if (reference.signature !== signature) problems.push(`node ${obs.port} disagrees with node ${reference.port} on slot map or roles`);
  }
  return problems;
}
