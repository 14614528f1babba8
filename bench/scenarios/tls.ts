/**
 * TLS cost: mixed GET/SET at 1, 64 and 256 in flight for slotwise and
 * ioredis Cluster (plain and auto-pipelined), each against a plaintext 3×1
 * cluster and a mutual-TLS 3×1 cluster started side by side in ONE run.
 * Every (client, transport) pair is measured twice, interleaved, and
 * reported as the mean of the two.
 */
import { Cluster } from 'ioredis';
import { ClusterClient } from '../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../testcontainers/index.js';
import type { BenchClient } from '../clients.js';
import { closedLoop, meanOfRuns, writeReport, type LoopResult, type Measurement } from '../harness.js';

type Kind = 'slotwise' | 'ioredis' | 'ioredis-autopipeline';
const KINDS: Kind[] = ['slotwise', 'ioredis', 'ioredis-autopipeline'];
const LABEL: Record<Kind, string> = { slotwise: 'slotwise', ioredis: 'ioredis Cluster', 'ioredis-autopipeline': 'ioredis Cluster + autopipelining' };
const KEYS = 10_000;
const VALUE = 'x'.repeat(100);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const key = (i: number) => `bench:${i % KEYS}`;

async function open(kind: Kind, cluster: StartedRedisCluster): Promise<BenchClient> {
  const tls = cluster.getTlsOptions();
  const roots = cluster.getRootNodes();
  if (kind === 'slotwise') {
    const c = new ClusterClient({ rootNodes: roots, commandTimeoutMs: 10_000, ...(tls ? { tls } : {}) });
    await c.connect();
    return { name: LABEL[kind], get: (k) => c.get(k), set: (k, v) => c.set(k, v), close: () => c.quit() };
  }
  const c = new Cluster(roots.map((r) => ({ host: r.host, port: r.port })), {
    enableAutoPipelining: kind === 'ioredis-autopipeline',
    lazyConnect: true,
    ...(tls ? { redisOptions: { tls } } : {}),
  });
  c.on('error', () => undefined);
  await c.connect();
  return { name: LABEL[kind], get: (k) => c.get(k), set: (k, v) => c.set(k, v), close: async () => void (await c.quit().catch(() => c.disconnect())) };
}

export async function run(): Promise<void> {
  const measurements: Measurement[] = [];
  const [plain, tls] = await Promise.all([
    new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).start(),
    new RedisClusterContainer().withMasters(3).withReplicasPerMaster(1).withTls({ mutual: true }).start(),
  ]);
  try {
    const transports = [
      { label: 'plaintext', cluster: plain },
      { label: 'mutual TLS', cluster: tls },
    ];
    for (const { cluster } of transports) {
      const seed = await open('slotwise', cluster);
      for (let i = 0; i < KEYS; i += 500) await Promise.all(Array.from({ length: 500 }, (_, j) => seed.set(key(i + j), VALUE)));
      await seed.close();
    }
    for (const concurrency of [1, 64, 256]) {
      const runs = new Map<string, LoopResult[]>();
      for (let round = 0; round < 2; round++) {
        const pairs = KINDS.flatMap((kind) => transports.map((t) => ({ kind, ...t })));
        for (const { kind, label, cluster } of round === 0 ? pairs : [...pairs].reverse()) {
          const c = await open(kind, cluster);
          const r = await closedLoop(concurrency, DURATION_MS, (w, i) => {
            const k = key(w * 7919 + i);
            return i % 2 === 0 ? c.set(k, VALUE) : c.get(k);
          });
          await c.close();
          const id = `${LABEL[kind]} (${label})`;
          runs.set(id, [...(runs.get(id) ?? []), r]);
          console.log(`  GET/SET C=${concurrency} ${id}: ${r.opsPerSec} ops/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, errors ${r.errors}`);
        }
      }
      for (const [id, rs] of runs) measurements.push(meanOfRuns(id, `GET/SET C=${concurrency}`, rs));
    }
  } finally {
    await Promise.all([plain.stop(), tls.stop()]);
  }
  writeReport({
    name: 'tls',
    title: 'TLS vs plaintext: slotwise vs ioredis Cluster',
    command: 'npm run bench -- tls',
    setup:
      'Two fresh clusters of 3 masters × 1 replica (redis-server 7.0.15) started side by side in one run: one plaintext, one mutual TLS ' +
      '(engine-generated ECDSA P-256 certificates, TLS 1.3). ' +
      `Closed loop, 50/50 GET/SET over ${KEYS} keys, 100-byte values; ${DURATION_MS} ms measured per run after a warm-up; ` +
      'every row is the mean of two interleaved runs.',
    measurements,
    notes: 'Both clients verify the nodes against the engine CA and present the engine client certificate; ioredis gets them as `redisOptions.tls`.',
  });
}
