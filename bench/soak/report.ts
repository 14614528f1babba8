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
  readonly heapUsedMb: number;
  readonly rssMb: number;
  /** MOVED/ASK the client followed since the previous sample. */
  readonly redirects: number;
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

const WARMUP_MS = 10_000;

/** A stale read this soon after a fault ended is counted as the fault's. */
const FAULT_TAIL_MS = 5_000;

/**
 * Faults after which Redis itself may serve an older value: a master dies by SIGKILL (kill -9, or
 * a pod-IP move of a master) and replication is asynchronous, so a write it acknowledged in its
 * last milliseconds may be missing on the node that serves the slot next. Any other stale read
 * is a client (or harness) bug.
 */
function mayLoseWrites(f: FaultRecord): boolean {
  return f.kind === 'kill-9' || (f.kind === 'pod-ip-move' && f.detail.startsWith('master'));
}

/** Groups stale reads by the fault whose window (start … end + 5 s) holds them. */
function staleByFault(stale: readonly StaleRead[], faults: readonly FaultRecord[]): Map<FaultRecord | undefined, number> {
  const out = new Map<FaultRecord | undefined, number>();
  for (const s of stale) {
    const during = faults.filter((f) => f.kind !== 'reshard' && s.at >= f.at && s.at <= f.at + f.durationMs + FAULT_TAIL_MS);
    const f = during.find(mayLoseWrites) ?? during[0];
    out.set(f, (out.get(f) ?? 0) + 1);
  }
  return out;
}

export function writeReport(dir: string, r: SoakReport): void {
  writeFileSync(join(dir, 'soak.json'), `${JSON.stringify(r, null, 2)}\n`);
  const s = r.startedAtMs;
  // The first 10 s are warm-up (the acknowledged-write map, pools and buffers fill): the
  // baseline is the rest of the first minute, and the deviation is checked from there on.
  const warm = r.memory.filter((m) => m.t - s > WARMUP_MS);
  const heap = warm.map((m) => m.heapUsedMb);
  const firstMinute = warm.filter((m) => m.t - s <= 60_000).map((m) => m.heapUsedMb);
  const base = firstMinute.length > 0 ? firstMinute.reduce((a, b) => a + b, 0) / firstMinute.length : NaN;
  const maxDev = heap.length > 0 ? Math.max(...heap.map((h) => Math.abs(h - base) / base)) * 100 : NaN;
  const stale = staleByFault(r.staleReads, r.faultLog);
  const staleInherent = [...stale].filter(([f]) => f !== undefined && mayLoseWrites(f)).reduce((a, [, n]) => a + n, 0);
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
    `| stale reads (GET ≠ just-acknowledged SET) | ${r.staleTotal}${r.staleTotal > 0 ? ` (${staleInherent} at a SIGKILLed master: asynchronous replication; ${r.staleTotal - staleInherent} elsewhere)` : ''} | 0 |`,
    `| keys written once at the start, not holding that value at the end | **${r.stillLost.length}** of ${r.stillKeys} | 0 |`,
    `| heap vs first-minute mean (${f1(base)} MB, samples after a ${WARMUP_MS / 1000} s warm-up) | max deviation ${f1(maxDev)} % | within ±10 % |`,
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
    lines.push(`${r.staleTotal} in all (${r.staleReads.length} recorded), by the fault whose window (start to end + ${FAULT_TAIL_MS / 1000} s) holds them:`, '', '| fault | at | stale reads | Redis may lose acknowledged writes here |', '|---|---|---|---|');
    for (const [f, n] of stale) lines.push(f === undefined ? `| none | – | ${n} | no: a client bug |` : `| ${f.kind}: ${f.detail.replace(/\|/g, '/').slice(0, 120)} | ${t(f.at, s)} | ${n} | ${mayLoseWrites(f) ? 'yes (SIGKILL, asynchronous replication)' : 'no: a client bug'} |`);
    lines.push('', 'First ones:', '', ...r.staleReads.slice(0, 10).map((x) => `- ${t(x.at, s)} ${x.text}`));
  }
  if (r.stillLost.length > 0) lines.push('', `Keys written once at the start and lost (${r.stillLost.length}):`, '', ...r.stillLost.slice(0, 20).map((l) => `- ${l}`));
  lines.push('', '## Acknowledged writes lost', '', r.lostWrites.length === 0 ? `None: every one of ${r.ackedKeys} keys holds its last acknowledged value (or the value of a write that failed, which may have applied).` : r.lostWrites.slice(0, 50).map((l) => `- ${l}`).join('\n'));
  lines.push('', '## Latency per minute (SET and GET, each)', '', '| minute | ops | p50 ms | p99 ms | max ms | errors |', '|---|---|---|---|---|---|');
  for (const m of r.minutes) lines.push(`| ${m.minute + 1} | ${m.ops.toLocaleString('en-US')} | ${f1(m.p50Ms)} | ${f1(m.p99Ms)} | ${f1(m.maxMs)} | ${m.errors} |`);
  lines.push('', '## Heap and RSS every 10 s', '', r.config.heapSampledAfterFullGc ? 'Each heap figure is taken right after a full GC (retained heap).' : 'Heap figures are taken wherever the collector happened to be (run without --expose-gc): they swing with GC timing and say little about retention.', '', '| t | heap used MB | RSS MB | redirects in the last 10 s |', '|---|---|---|---|');
  for (const m of r.memory) lines.push(`| ${t(m.t, s)} | ${f1(m.heapUsedMb)} | ${f1(m.rssMb)} | ${m.redirects} |`);
  lines.push('', '## Fault log', '', '| t | fault | took | outcome |', '|---|---|---|---|');
  for (const x of r.faultLog) lines.push(`| ${t(x.at, s)} | ${x.kind} | ${(x.durationMs / 1000).toFixed(1)} s | ${x.ok ? 'ok' : `**failed**: ${(x.error ?? '').replace(/\|/g, '/').slice(0, 200)}`} — ${x.detail.replace(/\|/g, '/')} |`);
  lines.push('', '## Set-up', '', '```json', JSON.stringify(r.config, null, 2), '```', '');
  writeFileSync(join(dir, 'soak.md'), lines.join('\n'));
}
