/**
 * Multi-key benchmark, in ONE run on ONE fresh 3×1 cluster:
 * - 100 keys read per operation: slotwise cross-slot MGET (split per slot,
 *   merged) vs 100 concurrent single GETs vs a hash-tagged single-slot MGET;
 *   ioredis Cluster (auto-pipelined) for the two shapes it supports (its
 *   cross-slot MGET fails with CROSSSLOT);
 * - a 1,000-command mixed-slot pipeline (50% SET, 50% GET): slotwise
 *   `pipeline()` vs ioredis Cluster, which rejects a pipeline whose keys span
 *   nodes, so the caller must cut it into pieces: one pipeline per slot (what
 *   its docs require for arbitrary keys), or one per node (grouping by its
 *   own slot table, `cluster.slots[slot][0]`) — then put results back in order.
 */
import calculateSlot from 'cluster-key-slot';
import { Cluster } from 'ioredis';
import { ClusterClient } from '../../lib/index.js';
import type { StartedRedisCluster } from '../../testcontainers/index.js';
import { closedLoop, withBenchCluster, writeReport, type Measurement } from '../harness.js';

const KEYS = 10_000;
const VALUE = 'x'.repeat(100);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const MGET_CONCURRENCY = 16;
const PIPELINE_CONCURRENCY = 4;
const key = (i: number) => `mk:${i % KEYS}`;
const tagged = (i: number) => `{mk:tag}:${i % 100}`;

type Cmd = readonly [name: 'set' | 'get', key: string];

/** The 1,000 commands of pipeline number `n` (deterministic: every client runs the same ones). */
function pipelineCommands(n: number): Cmd[] {
  let seed = (n * 2654435761) % 2147483647 || 1;
  const out: Cmd[] = [];
  for (let i = 0; i < 1000; i++) {
    seed = (seed * 48271) % 2147483647;
    out.push([i % 2 === 0 ? 'set' : 'get', key(seed)]);
  }
  return out;
}

/** 100 keys for read number `n`, spread over slots (and so over all masters). */
function readKeys(n: number): string[] {
  return Array.from({ length: 100 }, (_, i) => key(n * 101 + i * 97));
}

async function ioredisCluster(cluster: StartedRedisCluster): Promise<Cluster> {
  const c = new Cluster(cluster.getRootNodes().map((n) => ({ host: n.host, port: n.port })), { enableAutoPipelining: true });
  await new Promise<void>((resolve, reject) => {
    c.once('ready', () => resolve());
    c.once('error', reject);
  });
  return c;
}

/** ioredis: one pipeline per group (slot or node), results re-assembled in the caller's order. */
async function ioredisPieces(c: Cluster, cmds: readonly Cmd[], groupOf: (slot: number) => string | number): Promise<unknown[]> {
  const groups = new Map<string | number, number[]>();
  cmds.forEach(([, k], i) => {
    const g = groupOf(calculateSlot(k));
    let list = groups.get(g);
    if (list === undefined) groups.set(g, (list = []));
    list.push(i);
  });
  const out = new Array<unknown>(cmds.length);
  await Promise.all([...groups.values()].map(async (idx) => {
    const p = c.pipeline();
    for (const i of idx) {
      const [name, k] = cmds[i]!;
      if (name === 'set') p.set(k, VALUE);
      else p.get(k);
    }
    const results = (await p.exec())!;
    results.forEach(([err, v], j) => {
      if (err) throw err;
      out[idx[j]!] = v;
    });
  }));
  return out;
}

async function measure(out: Measurement[], client: string, scenario: string, concurrency: number, perOp: number, unit: string, op: (w: number, i: number) => Promise<unknown>): Promise<void> {
  const r = await closedLoop(concurrency, DURATION_MS, op);
  console.log(`  ${scenario} · ${client}: ${r.opsPerSec} ops/s (${r.opsPerSec * perOp} ${unit}/s), p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, errors ${r.errors}${r.firstError ? ` (${r.firstError})` : ''}`);
  out.push({ client, scenario, ops: r.ops, opsPerSec: r.opsPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms, errors: r.errors, extra: { [`${unit}/s`]: r.opsPerSec * perOp } });
}

export async function run(): Promise<void> {
  const out: Measurement[] = [];
  await withBenchCluster({ masters: 3, replicas: 1 }, async (cluster) => {
    const sw = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await sw.connect();
    for (let i = 0; i < KEYS; i += 1000) await sw.mset(Array.from({ length: 1000 }, (_, j) => [key(i + j), VALUE]).flat());
    await sw.mset(Array.from({ length: 100 }, (_, j) => [tagged(j), VALUE]).flat());
    const io = await ioredisCluster(cluster);
    const taggedKeys = Array.from({ length: 100 }, (_, j) => tagged(j));

    const read = 'read 100 keys C=16';
    await measure(out, 'slotwise: cross-slot MGET', read, MGET_CONCURRENCY, 100, 'keys', (w, i) => sw.mget(readKeys(w * 1_000_003 + i)));
    await measure(out, 'slotwise: 100 × GET', read, MGET_CONCURRENCY, 100, 'keys', (w, i) => Promise.all(readKeys(w * 1_000_003 + i).map((k) => sw.get(k))));
    await measure(out, 'slotwise: hash-tagged MGET (1 slot)', read, MGET_CONCURRENCY, 100, 'keys', () => sw.mget(taggedKeys));
    await measure(out, 'ioredis Cluster + autopipelining: 100 × GET', read, MGET_CONCURRENCY, 100, 'keys', (w, i) => Promise.all(readKeys(w * 1_000_003 + i).map((k) => io.get(k))));
    await measure(out, 'ioredis Cluster: hash-tagged MGET (1 slot)', read, MGET_CONCURRENCY, 100, 'keys', () => io.mget(taggedKeys));

    const pipe = 'pipeline 1,000 mixed-slot cmds C=4';
    await measure(out, 'slotwise: pipeline()', pipe, PIPELINE_CONCURRENCY, 1000, 'cmds', async (w, i) => {
      const p = sw.pipeline();
      for (const [name, k] of pipelineCommands(w * 1_000_003 + i)) {
        if (name === 'set') p.set(k, VALUE);
        else p.get(k);
      }
      const results = await p.exec();
      const failed = results.find(([err]) => err);
      if (failed) throw failed[0]!;
    });
    await measure(out, 'ioredis Cluster: one pipeline per slot', pipe, PIPELINE_CONCURRENCY, 1000, 'cmds', (w, i) => ioredisPieces(io, pipelineCommands(w * 1_000_003 + i), (slot) => slot));
    await measure(out, 'ioredis Cluster: one pipeline per node', pipe, PIPELINE_CONCURRENCY, 1000, 'cmds', (w, i) =>
      ioredisPieces(io, pipelineCommands(w * 1_000_003 + i), (slot) => (io as unknown as { slots: string[][] }).slots[slot]![0]!));
    await sw.quit();
    await io.quit();
  });
  writeReport({
    name: 'multikey',
    title: 'Multi-key reads and cross-node pipelines',
    command: 'npm run bench -- multikey',
    setup:
      `Fresh 3 masters × 1 replica cluster (redis-server, 127.0.0.1), ${KEYS} keys of 100 bytes. ` +
      `"read 100 keys": each operation reads 100 keys spread over all masters (${MGET_CONCURRENCY} in flight); ` +
      `"pipeline": each operation is one batch of 1,000 commands (50% SET, 50% GET) over random keys (${PIPELINE_CONCURRENCY} in flight). ` +
      `ops/s counts operations (one MGET, one batch); the last column counts keys or commands. ${DURATION_MS} ms per series after a warm-up.`,
    measurements: out,
    notes: [
      'ioredis Cluster cannot run a cross-slot MGET (CROSSSLOT) nor a pipeline whose keys live on different nodes',
      '("All keys in the pipeline should belong to the same slots allocation group"), so its rows show what a caller has to',
      'write instead: 100 single GETs (auto-pipelined), or the batch cut into one pipeline per slot or per node (grouped with',
      "ioredis' own slot table) and the replies put back in the caller's order. Per-node pieces break during a reshard",
      '(a slot moving between nodes fails the piece); slotwise retries only the redirected entries.',
      '',
      'Measured while other work may share the machine; the lead re-runs every benchmark on an idle machine.',
    ].join('\n'),
  });
}
