/**
 * `npm run soak -- --minutes 30`: a 64-way read/write load with
 * acknowledged-write tracking on a fresh 3×1 cluster (node timeout 2 s)
 * through a continuous stream of engine faults (bench/soak/faults.ts, run in a
 * worker thread: engine-remote.ts), with a live progress line, and a report in
 * docs/benchmarks/soak.{md,json}.
 * Not part of `npm test`. Options:
 *   --minutes N        duration (default 30)
 *   --workers N        concurrent workers (default 64)
 *   --label TEXT       report banner (default: says whether it is a full or a short run)
 *   --out DIR          report directory (default docs/benchmarks)
 *   --seed N           seed of the fault choices (default: time)
 *   --heap-snapshots S seconds after the start at which to write V8 heap snapshots into the
 *                      report directory, comma-separated (e.g. 60,600; for finding retention):
 *                      soak-<S>s.heapsnapshot (the client's thread) and soak-engine-<S>s.heapsnapshot
 *                      (the engine worker); compare two with bench/soak/heap-diff.ts
 */
import { parseArgs } from 'node:util';
import { ClusterClient } from '../../lib/index.js';
import { REPORT_DIR } from '../harness.js';
import { RemoteEngine } from './engine-remote.js';
import { SoakLoad } from './load.js';
import { writeReport, type MemorySample } from './report.js';
import os, { tmpdir } from 'node:os';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string' },
    workers: { type: 'string' },
    label: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string' },
    'heap-snapshots': { type: 'string' },
  },
  strict: true,
});
const minutes = Number(values.minutes ?? 30);
const workers = Number(values.workers ?? 64);
if (!(minutes > 0) || !Number.isInteger(workers) || workers < 1) {
  console.error('usage: npm run soak -- [--minutes 30] [--workers 64] [--label TEXT] [--out DIR] [--seed N]');
  process.exit(2);
}
const seed = Number(values.seed ?? Date.now() % 2 ** 31);
const label = values.label ?? (minutes >= 30 ? `Full ${minutes}-minute run` : `SHORT VALIDATION RUN (${minutes} min) — checks that the harness works; it is not the 30-minute soak the issue asks for`);
const outDir = values.out ?? REPORT_DIR;
const gc = (globalThis as { gc?: () => void }).gc;
const config = {
  masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 2000, workers, keysPerWorker: 50, valueBytes: 100,
  stillKeys: 3000,
  // Nodes keep their data across a restart, like pods with a persistent volume (appendfsync everysec:
  // an acknowledged write is in the file's page cache before the reply, which a SIGKILL keeps).
  // Without it a master restarted before its replica takes over comes back empty and its replica
  // resyncs from it: the 72 stale reads of seed 26 (test/chaos/pod-ip-master-data.test.ts).
  appendOnly: 'yes, appendfsync everysec',
  heapSampledAfterFullGc: gc !== undefined,
  faultSide: 'cluster engine and fault stream in a worker thread (own V8 heap, measured apart)', commandTimeoutMs: 10_000, reshardSlots: 300, reshardGapMs: [300, 1000], chaosGapMs: [8000, 14000], seed: values.seed ?? 'time',
};

const startedAtMs = Date.now();
console.log(`soak: ${label}`);
const faultLogFile = join(tmpdir(), `slotwise-soak-faults-${process.pid}.jsonl`);
// The cluster engine and the fault stream run in a worker thread (engine-remote.ts): their state and
// code are the harness's, kept out of this thread's heap — the one the bar is judged on — and
// measured there separately.
const engine = await RemoteEngine.start(
  { seed, logFile: faultLogFile, masters: config.masters, replicasPerMaster: config.replicasPerMaster, nodeTimeoutMs: config.nodeTimeoutMs },
  // Each fault as it ends: a run that dies still leaves its fault log in the output.
  (f) => console.log(`fault ${((f.at - startedAtMs) / 1000).toFixed(1)}s ${f.kind} ${f.ok ? 'ok' : 'FAILED'} ${f.durationMs} ms: ${f.detail}${f.error ? ` — ${f.error}` : ''}`),
);
const client = new ClusterClient({ rootNodes: await engine.rootNodes(), commandTimeoutMs: config.commandTimeoutMs });
let redirects = 0;
const migrationEvents = { stuck: 0, cleared: 0 };
client.on('redirect', () => redirects++);
client.on('migration:stuck', () => migrationEvents.stuck++);
client.on('migration:cleared', () => migrationEvents.cleared++);
client.on('error', () => {}); // background refresh failures during faults: expected, and not caller-visible
await client.connect();

const load = new SoakLoad(client, workers, config.keysPerWorker, config.valueBytes);
await load.writeStill(config.stillKeys);
load.start();
await engine.startFaults();
const faults = engine;
// Samples go to a file as they are taken: ~180 of them (with the space breakdown) would otherwise be
// harness memory growing in the very heap they measure.
const memoryFile = join(tmpdir(), `slotwise-soak-memory-${process.pid}.jsonl`);
writeFileSync(memoryFile, '');
let lastRedirects = 0;
// With --expose-gc (npm run soak passes it) each sample follows a full GC: the heap figure is what
// is retained, not wherever the collector happened to be.
// Both figures: raw heapUsed (what a dashboard shows: includes young-generation garbage, so it
// swings with GC timing) and, after a forced full GC, the retained heap — the honest measure of
// growth, and the one the ±10 % bar is judged on.
const sample = async () => {
  const rawMb = process.memoryUsage().heapUsed / 2 ** 20;
  gc?.();
  const m = process.memoryUsage();
  // Where the retained heap lives: compiled code (code_space) grows as V8 optimises more paths —
  // bounded by the amount of code, not by time — while old_space holds the objects.
  const spaces: Record<string, number> = {};
  for (const sp of getHeapSpaceStatistics()) if (sp.space_used_size > 0) spaces[sp.space_name] = sp.space_used_size / 2 ** 20;
  const t = Date.now();
  const r = redirects - lastRedirects;
  lastRedirects = redirects;
  const harness = await engine.memory().catch(() => undefined);
  const row: MemorySample = { t, heapUsedMb: m.heapUsed / 2 ** 20, heapRawMb: rawMb, rssMb: m.rss / 2 ** 20, redirects: r, spaces, ...(harness ? { engineHeapMb: harness.heapUsedMb } : {}) };
  appendFileSync(memoryFile, `${JSON.stringify(row)}\n`);
};
for (const at of (values['heap-snapshots'] ?? '').split(',').filter(Boolean).map(Number)) {
  setTimeout(() => {
    gc?.();
    console.log(`soak: heap snapshot ${writeHeapSnapshot(join(outDir, `soak-${at}s.heapsnapshot`))}`);
    void engine.heapSnapshot(join(outDir, `soak-engine-${at}s.heapsnapshot`)).then((f) => console.log(`soak: engine worker heap snapshot ${f}`), () => undefined);
  }, at * 1000 - (Date.now() - startedAtMs)).unref();
}
await sample();
const sampler = setInterval(() => void sample(), 10_000);
let lastOps = 0;
const progress = setInterval(() => {
  const el = (Date.now() - startedAtMs) / 1000;
  const heap = process.memoryUsage().heapUsed / 2 ** 20;
  const line = `${Math.floor(el / 60)}:${String(Math.floor(el % 60)).padStart(2, '0')} ops ${load.ops.toLocaleString('en-US')} (${(load.ops - lastOps).toLocaleString('en-US')}/s) ` +
    `errors ${load.errorTotal} stale ${load.staleTotal} reshards ${faults.count('reshard')} failovers ${faults.count('failover') + faults.count('failover-mid-migration')} ` +
    `(mid ${faults.count('failover-mid-migration')}) kills ${faults.count('kill-9')} pauses ${faults.count('pause')} heap ${heap.toFixed(1)} MB`;
  lastOps = load.ops;
  if (process.stdout.isTTY) process.stdout.write(`\r${line.padEnd(150)}`);
  else if (Math.floor(el) % 10 === 0) console.log(line);
}, 1000);

await new Promise((resolve) => setTimeout(resolve, minutes * 60_000)); // the soak's duration
clearInterval(progress);
if (process.stdout.isTTY) process.stdout.write('\n');
console.log('soak: stopping faults (waits for the one running)…');
await engine.stopFaults();
await load.stop();
clearInterval(sampler);
await sample();
console.log('soak: checking acknowledged writes…');
// The check reads every acknowledged key: first make sure every slot is served. A fault can
// leave a slot open or uncovered; repair it the way an operator would, and say so in the report.
const endState = await engine.heal();
let lostWrites: string[];
let stillLost: string[];
try {
  lostWrites = await load.lostWrites();
} catch (err) {
  lostWrites = [`the check itself failed: ${(err as Error).message}`];
}
try {
  stillLost = await load.lostStill();
} catch (err) {
  stillLost = [`the check itself failed: ${(err as Error).message}`];
}
const durationMs = Date.now() - startedAtMs;
const faultLog = engine.log;
rmSync(faultLogFile, { force: true });
const memory = readFileSync(memoryFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as MemorySample);
rmSync(memoryFile, { force: true });
const faultsByKind: Record<string, { ok: number; failed: number }> = {};
for (const f of faultLog) {
  const k = (faultsByKind[f.kind] ??= { ok: 0, failed: 0 });
  if (f.ok) k.ok++;
  else k.failed++;
}
writeReport(outDir, {
  label,
  command: `npm run soak -- --minutes ${minutes}${values.workers ? ` --workers ${workers}` : ''}${values.seed ? ` --seed ${values.seed}` : ''}`,
  startedAt: new Date(startedAtMs).toISOString(),
  startedAtMs,
  durationMs,
  machine: `${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}, redis-server from the engine; machine shared with other work during the run`,
  config,
  ops: load.ops,
  errorTotal: load.errorTotal,
  errorsByKind: Object.fromEntries(load.errorCounts),
  errors: load.errors,
  staleReads: load.stale,
  staleTotal: load.staleTotal,
  stillKeys: load.stillKeys,
  stillLost,
  ackedKeys: load.acked.size,
  lostWrites,
  faults: faultsByKind,
  faultLog,
  memory,
  minutes: load.minutes(),
  migrationEvents,
  endState,
});
console.log(`soak: ${load.ops} commands, ${load.errorTotal} errors, ${lostWrites.length} acknowledged writes lost, ${stillLost.length} of ${load.stillKeys} still keys lost, ${load.staleTotal} stale reads; report in ${outDir}/soak.md`);
await client.quit();
await engine.close();
