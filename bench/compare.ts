/**
 * `npm run bench:compare -- <git-rev> [label]`: slotwise at the working tree
 * vs slotwise at another revision, in ONE run on ONE fresh 3×1 cluster — the
 * before/after check a change to the command path must pass (e.g. "the router
 * bench at 256 in flight within 2 %").
 *
 * The other revision is checked out into .tmp/compare-<rev> (a detached git
 * worktree sharing this checkout's node_modules) and imported from source.
 * Mixed GET/SET (50/50, 100-byte values) at 1, 64 and 256 in flight;
 * ROUNDS interleaved runs per client and concurrency, alternating order.
 * Writes docs/benchmarks/compare-<label>.{json,md,svg}.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ClusterClient } from '../lib/index.js';
import { CLIENT_LABELS, openClient, type ClientKind } from './clients.js';
import { closedLoop, meanOfRuns, meanOpsPerSec, withBenchCluster, withRatios, writeReport, REPORT_DIR, type LoopResult, type Measurement } from './harness.js';

type ClientCtor = typeof ClusterClient;

const rev = process.argv[2];
if (!rev) {
  console.error('usage: npm run bench:compare -- <git-rev> [label]');
  process.exit(2);
}
const label = process.argv[3] ?? rev;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const KEYS = 10_000;
const VALUE = 'x'.repeat(100);
const root = join(REPORT_DIR, '..', '..');

function checkout(r: string): string {
  const sha = execFileSync('git', ['rev-parse', '--short', r], { cwd: root, encoding: 'utf8' }).trim();
  const dir = join(root, '.tmp', `compare-${sha}`);
  if (!existsSync(dir)) {
    execFileSync('git', ['worktree', 'add', '--detach', dir, sha], { cwd: root, stdio: 'ignore' });
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  }
  return dir;
}

const baseDir = checkout(rev);
const Base = ((await import(pathToFileURL(join(baseDir, 'lib', 'index.ts')).href)) as { ClusterClient: ClientCtor }).ClusterClient;
interface Loaded {
  get(k: string): Promise<unknown>;
  set(k: string, v: string): Promise<unknown>;
  close(): Promise<unknown>;
}
const slotwise = (Ctor: ClientCtor) => async (roots: Parameters<typeof openClient>[1]): Promise<Loaded> => {
  const c = new Ctor({ rootNodes: roots, commandTimeoutMs: 10_000 });
  await c.connect();
  return { get: (k) => c.get(k), set: (k, v) => c.set(k, v), close: () => c.quit() };
};
const other = (kind: ClientKind) => (roots: Parameters<typeof openClient>[1]): Promise<Loaded> => openClient(kind, roots);
/** BENCH_REFERENCE=0 leaves out the reference rows (ioredis + autopipelining, the bare-socket ceiling). */
const REFERENCE = process.env.BENCH_REFERENCE !== '0';
type Variant = readonly [string, (roots: Parameters<typeof openClient>[1]) => Promise<Loaded>];
const variants: Variant[] = [
  [`slotwise ${label} (before)`, slotwise(Base)],
  ['slotwise working tree (after)', slotwise(ClusterClient)],
  ...(REFERENCE
    ? ([
        [CLIENT_LABELS['ioredis-autopipeline'], other('ioredis-autopipeline')],
        [CLIENT_LABELS['bare-socket'], other('bare-socket')],
      ] satisfies Variant[])
    : []),
];
/** BENCH_CONCURRENCY=1,256 measures only those. */
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,64,256').split(',').map(Number);

const measurements: Measurement[] = [];
await withBenchCluster({ masters: 3, replicas: 1 }, async (cluster) => {
  const roots = cluster.getRootNodes();
  const seed = new ClusterClient({ rootNodes: roots });
  for (let i = 0; i < KEYS; i += 500) await Promise.all(Array.from({ length: 500 }, (_, j) => seed.set(`bench:${i + j}`, VALUE)));
  await seed.quit();
  for (const concurrency of CONCURRENCY) {
    const runs = new Map<string, LoopResult[]>();
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? variants : [...variants].reverse();
      for (const [name, open] of order) {
        const c = await open(roots);
        const res = await closedLoop(concurrency, DURATION_MS, (w, i) => {
          const k = `bench:${(w * 7919 + i) % KEYS}`;
          return i % 2 === 0 ? c.set(k, VALUE) : c.get(k);
        });
        await c.close();
        runs.set(name, [...(runs.get(name) ?? []), res]);
        console.log(`  C=${concurrency} ${name}: ${res.opsPerSec} ops/s, ${res.cpuUsPerOp} µs CPU/op, p99 ${res.p99Ms} ms, errors ${res.errors}`);
      }
    }
    const baseOpsPerSec = meanOpsPerSec(runs.get(variants[0]![0])!);
    const rows = variants.map(([name]) => meanOfRuns(name, `GET/SET C=${concurrency}`, runs.get(name)!, { label: 'vs before', baseOpsPerSec }));
    measurements.push(...withRatios(rows, CLIENT_LABELS['bare-socket'], CLIENT_LABELS['ioredis-autopipeline']));
  }
});
writeReport({
  name: `compare-${label}`,
  title: `slotwise before (${label}) vs after, same run`,
  command: `npm run bench:compare -- ${rev} ${label}`,
  setup:
    `One fresh cluster of 3 masters × 1 replica (node timeout 2 s). Closed loop, 50/50 GET/SET over ${KEYS} keys, 100-byte values; ` +
    `${DURATION_MS} ms measured per run after a warm-up; ${ROUNDS} interleaved runs per variant and concurrency (order alternates), rows are their mean. ` +
    '"CPU µs/op": client process CPU (user + system) over the measured window per completed operation. Reference rows in the same run: ioredis Cluster + autopipelining and the bare-socket ceiling (bench/bare-socket.ts: one net.Socket per master, hand-written RESP, static slot map, replies counted not decoded).',
  measurements,
});
