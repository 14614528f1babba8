/**
 * The soak report: docs/benchmarks/soak.json (everything) and soak.md (what
 * a reader needs: verdict, counts, errors by kind with timestamps, lost
 * writes, heap/RSS every 10 s, p99 per minute, the fault log).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FaultRecord } from './faults.js';
import type { MinuteStats, SoakError, StaleRead } from './load.js';

export interface MemorySample {
  readonly t: number;
  /** heapUsed right after a forced full GC (with --expose-gc): what is retained. */
  readonly heapUsedMb: number;
  /** heapUsed just before that GC: includes garbage not yet collected. */
  readonly heapRawMb?: number;
  readonly rssMb: number;
  /** MOVED/ASK the client followed since the previous sample. */
  readonly redirects: number;
  /** MB used per V8 heap space (`v8.getHeapSpaceStatistics()`, empty spaces left out), after that GC. */
  readonly spaces?: Readonly<Record<string, number>>;
  /**
   * Retained heap (after a full GC there) of the worker thread that runs the cluster engine and the
   * fault stream: the harness, measured apart from the client's thread.
   */
  readonly engineHeapMb?: number;
}

export interface SoakReport {
  readonly label: string;
  readonly command: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly machine: string;
  readonly config: Record<string, unknown>;
  readonly ops: number;
  readonly errorTotal: number;
  readonly errorsByKind: Record<string, number>;
  readonly errors: readonly SoakError[];
  readonly staleReads: readonly StaleRead[];
  readonly staleTotal: number;
  /** Keys written once before the load (never again), and those not holding that value at the end. */
  readonly stillKeys: number;
  readonly stillLost: readonly string[];
  readonly ackedKeys: number;
  readonly lostWrites: readonly string[];
  /** The cluster's state once the faults stopped, and what repaired it. */
  readonly endState: string;
  readonly faults: Record<string, { ok: number; failed: number }>;
  readonly faultLog: readonly FaultRecord[];
  readonly memory: readonly MemorySample[];
  readonly minutes: readonly MinuteStats[];
  readonly migrationEvents: { stuck: number; cleared: number };
  readonly startedAtMs: number;
}

const t = (ms: number, start: number) => `${((ms - start) / 1000).toFixed(1)} s`;
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
const signed = (n: number) => (Number.isFinite(n) ? `${n >= 0 ? '+' : ''}${n.toFixed(1)}` : '–');
const mean = (xs: readonly number[]) => (xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

const WARMUP_MS = 10_000;

/** A stale read this soon after a fault ended is counted as the fault's. */
const FAULT_TAIL_MS = 5_000;

/** The master a failover record took the slots from. */
function failedOverMaster(f: FaultRecord): number | undefined {
  if (f.kind === 'failover') return Number(/takes over from (\d+)/.exec(f.detail)?.[1] ?? NaN);
  const m = /reshard (\d+) → (\d+) mid-migration: (source|target)'s/.exec(f.detail);
  return f.kind === 'failover-mid-migration' && m ? Number(m[3] === 'source' ? m[1] : m[2]) : undefined;
}

/**
 * Why Redis itself may answer with an older value (or nil) at this fault, or undefined when it
 * should not — then a stale read is a client (or harness) bug:
 * - a master dies by SIGKILL (kill -9, or a pod-IP move of a master): replication is
 *   asynchronous, so a write it acknowledged in its last milliseconds may be missing on the
 *   node that serves the slot next;
 * - the source master of a running migration fails over: MIGRATING is not replicated, so the
 *   promoted replica owns the slot without it and answers nil (not ASK) for keys already moved,
 *   until the engine re-points the migration to it.
 */
function redisCause(f: FaultRecord, faults: readonly FaultRecord[]): string | undefined {
  if (f.kind === 'kill-9' || (f.kind === 'pod-ip-move' && f.detail.startsWith('master'))) return 'SIGKILL of a master: asynchronous replication';
  const m = failedOverMaster(f);
  if (m === undefined || Number.isNaN(m)) return undefined;
  const migrating = faults.some((r) => r.kind === 'reshard' && r.at <= f.at + f.durationMs && r.at + r.durationMs >= f.at && r.detail.includes(` slots ${m} → `));
  return migrating ? "failover of a migration's source: MIGRATING is not replicated, the new master answers nil for keys already moved" : undefined;
}

/** Groups stale reads by the fault whose window (start … end + 5 s) holds them. */
function staleByFault(stale: readonly StaleRead[], faults: readonly FaultRecord[]): Map<FaultRecord | undefined, number> {
  const out = new Map<FaultRecord | undefined, number>();
  for (const s of stale) {
    const during = faults.filter((f) => f.kind !== 'reshard' && s.at >= f.at && s.at <= f.at + f.durationMs + FAULT_TAIL_MS);
    const f = during.find((x) => redisCause(x, faults) !== undefined) ?? during[0];
    out.set(f, (out.get(f) ?? 0) + 1);
  }
  return out;
}

/** Start of the window compared with the first minute: the last ten minutes, or the last third of a shorter run. */
function tailFrom(r: SoakReport, warm: readonly MemorySample[]): number {
  const end = warm[warm.length - 1]?.t ?? r.startedAtMs;
  return Math.max(end - 600_000, r.startedAtMs + (end - r.startedAtMs) * (2 / 3));
}

/** Per V8 space: first-minute mean, mean from `from` on, and max, in MB (spaces used at some point). */
function spaceStats(r: SoakReport, warm: readonly MemorySample[], from: number): Array<{ space: string; first: number; tail: number; max: number }> {
  const names = new Set(warm.flatMap((m) => Object.keys(m.spaces ?? {})));
  const first = warm.filter((m) => m.t - r.startedAtMs <= 60_000 && m.spaces !== undefined);
  const tail = warm.filter((m) => m.t >= from && m.spaces !== undefined);
  return [...names].map((space) => ({
    space,
    first: mean(first.map((m) => m.spaces![space] ?? 0)),
    tail: mean(tail.map((m) => m.spaces![space] ?? 0)),
    max: Math.max(...warm.map((m) => m.spaces?.[space] ?? 0)),
  }));
}

export function writeReport(dir: string, r: SoakReport): void {
  writeFileSync(join(dir, 'soak.json'), `${JSON.stringify(r, null, 2)}\n`);
  const s = r.startedAtMs;
  // The first 10 s are warm-up (the acknowledged-write map, pools and buffers fill): the
  // baseline is the rest of the first minute, and the deviation is checked from there on.
  const warm = r.memory.filter((m) => m.t - s > WARMUP_MS);
  const heapStats = (of: (m: MemorySample) => number | undefined) => {
    const all = warm.map(of).filter((h): h is number => h !== undefined);
    const first = warm.filter((m) => m.t - s <= 60_000).map(of).filter((h): h is number => h !== undefined);
    const base = first.length > 0 ? mean(first) : NaN;
    const maxDev = all.length > 0 ? Math.max(...all.map((h) => Math.abs(h - base) / base)) * 100 : NaN;
    // The drift that matters for a leak: the mean of the last ten minutes (or last third) against the first minute.
    const from = tailFrom(r, warm);
    const tail = warm.filter((m) => m.t >= from).map(of).filter((h): h is number => h !== undefined);
    return { base, maxDev, tailMean: mean(tail), tailDev: ((mean(tail) - base) / base) * 100 };
  };
  const retained = heapStats((m) => m.heapUsedMb);
  const raw = heapStats((m) => m.heapRawMb);
  const harness = heapStats((m) => m.engineHeapMb);
  const base = retained.base;
  const maxDev = retained.maxDev;
  const tailLabel = r.durationMs >= 30 * 60_000 ? '10-min' : 'third';
  const stale = staleByFault(r.staleReads, r.faultLog);
  const staleInherent = [...stale].filter(([f]) => f !== undefined && redisCause(f, r.faultLog) !== undefined).reduce((a, [, n]) => a + n, 0);
  const mid = r.faultLog.filter((x) => x.kind === 'failover-mid-migration' && x.ok).length;
  const lines: string[] = [
    '# Soak: 64-way load through a continuous stream of engine faults',
    '',
    `> **${r.label}**`,
    '',
    `Command: \`${r.command}\` · started ${r.startedAt} · ${(r.durationMs / 60_000).toFixed(1)} min · ${r.machine}`,
    '',
    '## Verdict',
    '',
    '| what | measured | goal (30-min run, issue #21) |',
    '|---|---|---|',
    `| errors surfaced to callers | **${r.errorTotal}** | 0 |`,
    `| acknowledged writes lost | **${r.lostWrites.length}** of ${r.ackedKeys} keys | 0 |`,
    `| cluster when the faults stopped | ${r.endState} | healthy |`,
    `| stale reads (GET ≠ just-acknowledged SET) | ${r.staleTotal}${r.staleTotal > 0 ? ` (${staleInherent} where Redis itself may answer so — see below; ${r.staleTotal - staleInherent} elsewhere: client bugs)` : ''} | 0 |`,
    `| keys written once at the start, not holding that value at the end | **${r.stillLost.length}** of ${r.stillKeys} | 0 |`,
    `| retained heap (after a full GC) vs first-minute mean (${f1(base)} MB, samples after a ${WARMUP_MS / 1000} s warm-up) — **the bar** | max deviation ${f1(maxDev)} %; last-${tailLabel} mean ${f1(retained.tailMean)} MB (${signed(retained.tailDev)} %) | within ±10 % |`,
    `| raw heapUsed (before that GC, includes young-generation garbage) vs first-minute mean (${f1(raw.base)} MB) — for information | max deviation ${f1(raw.maxDev)} %; last-${tailLabel} mean ${f1(raw.tailMean)} MB (${signed(raw.tailDev)} %) | — |`,
    ...(Number.isFinite(harness.base) ? [`| the harness's fault side (cluster engine + fault stream, in a worker thread with its own heap), retained heap vs its first-minute mean (${f1(harness.base)} MB) — not the client, for information | max deviation ${f1(harness.maxDev)} %; last-${tailLabel} mean ${f1(harness.tailMean)} MB (${signed(harness.tailDev)} %) | — |`] : []),
    `| reshards completed | ${r.faults.reshard?.ok ?? 0} (${r.faults.reshard?.failed ?? 0} failed) | ≥ 300 |`,
    `| manual failovers | ${(r.faults.failover?.ok ?? 0) + mid} (${mid} mid-migration) | ≥ 25 (≥ 5 mid-migration) |`,
    `| kill -9 + restart | ${r.faults['kill-9']?.ok ?? 0} | ≥ 5 |`,
    `| SIGSTOP/SIGCONT | ${r.faults.pause?.ok ?? 0} | — |`,
    `| add / remove master | ${r.faults['add-master']?.ok ?? 0} / ${r.faults['remove-master']?.ok ?? 0} | — |`,
    `| pod-IP moves (never during a migration) | ${r.faults['pod-ip-move']?.ok ?? 0} (${r.faults['pod-ip-move']?.failed ?? 0} did not converge in time) | — |`,
    `| commands | ${r.ops.toLocaleString('en-US')} | — |`,
    `| \`migration:stuck\` / \`migration:cleared\` events | ${r.migrationEvents.stuck} / ${r.migrationEvents.cleared} | — |`,
    '',
    '## Errors by kind',
    '',
  ];
  if (r.errorTotal === 0) lines.push('None.');
  else {
    lines.push('| kind | count | first | last |', '|---|---|---|---|');
    for (const [kind, n] of Object.entries(r.errorsByKind)) {
      const of = r.errors.filter((e) => e.kind === kind);
      lines.push(`| \`${kind}\` | ${n} | ${of[0] ? t(of[0].at, s) : '?'} | ${of.length ? t(of[of.length - 1]!.at, s) : '?'} |`);
    }
    lines.push('', 'First errors (time since start, op, message):', '');
    for (const e of r.errors.slice(0, 30)) lines.push(`- ${t(e.at, s)} ${e.op} \`${e.kind}\`: ${e.message.replace(/\|/g, '/')}`);
  }
  lines.push('', '## Stale reads', '');
  if (r.staleTotal === 0) lines.push('None.');
  else {
    lines.push(`${r.staleTotal} in all (${r.staleReads.length} recorded), by the fault whose window (start to end + ${FAULT_TAIL_MS / 1000} s) holds them:`, '', '| fault | at | stale reads | may Redis itself answer so here? |', '|---|---|---|---|');
    for (const [f, n] of stale) lines.push(f === undefined ? `| none | – | ${n} | no: a client bug |` : `| ${f.kind}: ${f.detail.replace(/\|/g, '/').slice(0, 120)} | ${t(f.at, s)} | ${n} | ${redisCause(f, r.faultLog) ?? 'no: a client bug'} |`);
    lines.push('', 'First ones:', '', ...r.staleReads.slice(0, 10).map((x) => `- ${t(x.at, s)} ${x.text}`));
  }
  if (r.stillLost.length > 0) lines.push('', `Keys written once at the start and lost (${r.stillLost.length}):`, '', ...r.stillLost.slice(0, 20).map((l) => `- ${l}`));
  lines.push('', '## Acknowledged writes lost', '', r.lostWrites.length === 0 ? `None: every one of ${r.ackedKeys} keys holds its last acknowledged value (or the value of a write that failed, which may have applied).` : r.lostWrites.slice(0, 50).map((l) => `- ${l}`).join('\n'));
  lines.push('', '## Latency per minute (SET and GET, each)', '', '| minute | ops | p50 ms | p99 ms | max ms | errors |', '|---|---|---|---|---|---|');
  for (const m of r.minutes) lines.push(`| ${m.minute + 1} | ${m.ops.toLocaleString('en-US')} | ${f1(m.p50Ms)} | ${f1(m.p99Ms)} | ${f1(m.maxMs)} | ${m.errors} |`);
  lines.push('', '## Retained heap by V8 space', '');
  const bySpace = spaceStats(r, warm, tailFrom(r, warm));
  if (bySpace.length === 0) lines.push('Not recorded in this run.');
  else {
    lines.push(
      '`v8.getHeapSpaceStatistics()` right after each forced full GC. `code_space` is compiled code: it grows while V8',
      'optimises more of the program and is bounded by the amount of code, not by time or traffic; the objects are in',
      '`old_space` (and `large_object_space` for big arrays and buffers).',
      '',
      `| space | first-minute mean MB | last-${tailLabel} mean MB | change MB | max MB |`,
      '|---|---|---|---|---|',
      ...bySpace.map((x) => `| ${x.space} | ${x.first.toFixed(2)} | ${x.tail.toFixed(2)} | ${x.tail - x.first >= 0 ? '+' : ''}${(x.tail - x.first).toFixed(2)} | ${x.max.toFixed(2)} |`),
    );
  }
  const shown = ['old_space', 'code_space', 'large_object_space', 'new_space'];
  const hasSpaces = r.memory.some((m) => m.spaces !== undefined);
  const hasEngine = r.memory.some((m) => m.engineHeapMb !== undefined);
  lines.push('', '## Heap and RSS every 10 s', '', r.config.heapSampledAfterFullGc ? 'Raw: `heapUsed` wherever the collector happened to be (includes garbage). Retained: `heapUsed` right after a forced full GC — the ±10 % bar is judged on this one; the next columns split it by V8 space. The engine worker column is the harness\'s fault side (its own heap, not counted in the others); RSS is the whole process, both threads.' : 'Run without --expose-gc: both columns are raw `heapUsed` wherever the collector happened to be; they swing with GC timing and say little about retention.', '',
    `| t | heap raw MB | heap retained MB |${hasSpaces ? ' old MB | code MB | large objects MB | new MB |' : ''}${hasEngine ? ' engine worker retained MB |' : ''} RSS MB | redirects in the last 10 s |`,
    `|---|---|---|${hasSpaces ? '---|---|---|---|' : ''}${hasEngine ? '---|' : ''}---|---|`);
  for (const m of r.memory) {
    const sp = hasSpaces ? ` ${shown.map((k) => (m.spaces?.[k] ?? 0).toFixed(2)).join(' | ')} |` : '';
    const eng = hasEngine ? ` ${f1(m.engineHeapMb ?? NaN)} |` : '';
    lines.push(`| ${t(m.t, s)} | ${f1(m.heapRawMb ?? NaN)} | ${f1(m.heapUsedMb)} |${sp}${eng} ${f1(m.rssMb)} | ${m.redirects} |`);
  }
  lines.push('', '## Fault log', '', '| t | fault | took | outcome |', '|---|---|---|---|');
  for (const x of r.faultLog) lines.push(`| ${t(x.at, s)} | ${x.kind} | ${(x.durationMs / 1000).toFixed(1)} s | ${x.ok ? 'ok' : `**failed**: ${(x.error ?? '').replace(/\|/g, '/').slice(0, 200)}`} — ${x.detail.replace(/\|/g, '/')} |`);
  lines.push('', '## Set-up', '', '```json', JSON.stringify(r.config, null, 2), '```', '');
  writeFileSync(join(dir, 'soak.md'), lines.join('\n'));
}
