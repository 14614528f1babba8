/**
 * `slotwise top --port N`: a live terminal view of a Redis Cluster, redrawn
 * every second — per node ops/s, PING latency, MOVED/ASK per second, clients,
 * breaker state, open (migrating/importing) slots, and the slot map. Reads
 * server counters (INFO, CLUSTER NODES) through a ClusterClient, so it keeps
 * following the cluster through a reshard or a failover. `q` or Ctrl-C quits.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ClusterClient } from '../lib/index.js';
import type { NodeHandle } from '../lib/node/node-handle.js';
import { parseClusterNodes, parseInfo } from '../testcontainers/index.js';
import { render, shardLetter, slotMapLine, type NodeSample, type Sample } from './top-view.js';

/** Terminal control: alternate screen, hide/show cursor, home + clear. */
const ENTER = '\x1b[?1049h\x1b[?25l';
const LEAVE = '\x1b[?25h\x1b[?1049l';
const HOME_CLEAR = '\x1b[H\x1b[2J';

export interface TopArgs {
  readonly host: string;
  readonly port: number;
  readonly password: string | undefined;
  readonly user: string | undefined;
  readonly intervalMs: number;
}

export function parseTopArgs(args: string[], int: (name: string, v: string | undefined, fallback: number) => number): TopArgs {
  const { values } = parseArgs({
    args,
    options: { port: { type: 'string' }, host: { type: 'string' }, password: { type: 'string' }, user: { type: 'string' }, 'interval-ms': { type: 'string' } },
    strict: true,
  });
  return {
    host: values.host ?? '127.0.0.1',
    port: int('port', values.port, 0),
    password: values.password,
    user: values.user,
    intervalMs: Math.max(100, int('interval-ms', values['interval-ms'], 1000)),
  };
}

function errorCount(info: Record<string, string>, prefix: string): number {
  const m = /count=(\d+)/.exec(info[`errorstat_${prefix}`] ?? '');
  return m === null ? 0 : Number(m[1]);
}

async function sampleNode(node: NodeHandle, shard: string, slots: number): Promise<NodeSample> {
  const base = { address: node.address, role: node.role, shard, slots, breaker: node.breakerState };
  try {
    const t0 = performance.now();
    await node.call('ping');
    const pingMs = performance.now() - t0;
    const [infoText, nodesText] = await Promise.all([node.call('info', 'stats', 'errorstats', 'clients'), node.call('cluster', 'nodes')]);
    const info = parseInfo(String(infoText));
    const self = parseClusterNodes(String(nodesText)).find((e) => e.myself);
    return {
      ...base,
      pingMs,
      server: {
        commands: Number(info.total_commands_processed ?? 0),
        moved: errorCount(info, 'MOVED'),
        ask: errorCount(info, 'ASK'),
        clients: Number(info.connected_clients ?? 0),
        blocked: Number(info.blocked_clients ?? 0),
        migrating: self?.migrating.length ?? 0,
        importing: self?.importing.length ?? 0,
      },
    };
  } catch (err) {
    return { ...base, error: `unreachable: ${(err as Error).message.slice(0, 40)}` };
  }
}

async function sample(client: ClusterClient, seq: number): Promise<Sample> {
  const snap = client.topology;
  const nodes: Promise<NodeSample>[] = [];
  if (snap !== undefined) {
    const handles = new Map(client.nodes('all').map((h) => [h.address, h]));
    const slotsOf = new Map<number, number>();
    for (let s = 0; s < 16384; s++) {
      const i = snap.shardOf(s)?.index;
      if (i !== undefined) slotsOf.set(i, (slotsOf.get(i) ?? 0) + 1);
    }
    for (const shard of snap.shards) {
      const letter = shardLetter(shard.index);
      for (const d of [shard.master, ...shard.replicas]) {
        const h = handles.get(d.address);
        if (h !== undefined) nodes.push(sampleNode(h, letter, d === shard.master ? slotsOf.get(shard.index) ?? 0 : 0));
      }
    }
  }
  const stats = client.stats();
  return {
    at: performance.now(),
    seq,
    clock: new Date().toISOString().slice(11, 19),
    nodes: await Promise.all(nodes),
    slotMap: slotMapLine((slot) => snap?.shardOf(slot)?.index),
    redirects: stats.redirects,
    refreshes: stats.topology.refreshes,
  };
}

/** Runs the live view until `q`, Ctrl-C or SIGTERM; resolves with the exit code. */
export async function top(a: TopArgs, stdout: NodeJS.WriteStream = process.stdout, stdin: NodeJS.ReadStream = process.stdin): Promise<number> {
  const client = new ClusterClient({
    rootNodes: [{ host: a.host, port: a.port }],
    ...(a.password === undefined ? {} : { password: a.password }),
    ...(a.user === undefined ? {} : { username: a.user }),
    connectionName: 'slotwise-top',
    telemetry: { tracing: false, metrics: false },
  });
  client.on('error', () => undefined);
  await client.connect();
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const onKey = (data: Buffer) => {
    const key = data.toString('utf8');
    if (key === 'q' || key === 'Q' || key === '\x03') stop();
  };
  const raw = stdin.isTTY === true;
  if (raw) stdin.setRawMode(true);
  stdin.on('data', onKey);
  stdin.resume();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  stdout.write(ENTER);
  let prev: Sample | undefined;
  let seq = 0;
  let timer: NodeJS.Timeout | undefined;
  let running = true;
  const tick = async () => {
    const now = await sample(client, ++seq);
    if (!running) return;
    stdout.write(HOME_CLEAR + render(`${a.host}:${a.port}`, a.intervalMs, now, prev).join('\n') + '\n');
    prev = now;
    timer = setTimeout(() => void tick(), a.intervalMs);
  };
  try {
    void tick();
    await stopped;
  } finally {
    running = false;
    clearTimeout(timer);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    stdin.off('data', onKey);
    if (raw) stdin.setRawMode(false);
    stdin.pause();
    stdout.write(LEAVE);
    await client.quit();
  }
  return 0;
}
