/**
 * Shared benchmark plumbing: a fresh cluster per run, closed-loop load with
 * latency percentiles, and reports written to docs/benchmarks/ as JSON, a
 * Markdown table and an SVG chart — always with the command that produced them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { RedisClusterContainer, type StartedRedisCluster } from '../testcontainers/index.js';

export const REPORT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'benchmarks');

/** Result of one measured series. */
export interface Measurement {
  /** Client or variant, e.g. "slotwise", "ioredis Cluster + autopipelining". */
  readonly client: string;
  /** Scenario, e.g. "GET/SET C=256". */
  readonly scenario: string;
  readonly ops: number;
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** Anything else worth reporting (recovery time, bytes, …). */
  readonly extra?: Readonly<Record<string, number | string>>;
}

/** What one closed-loop run measured. */
export interface LoopResult {
  readonly ops: number;
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly firstError?: string;
  /** Client-process CPU time (user + system) per measured operation, in µs. */
  readonly cpuUsPerOp: number;
}

/** Starts a fresh cluster for one benchmark run and always stops it. */
export async function withBenchCluster<T>(
  opts: { masters?: number; replicas?: number; nodeTimeoutMs?: number },
  fn: (cluster: StartedRedisCluster) => Promise<T>,
): Promise<T> {
  const cluster = await new RedisClusterContainer()
    .withMasters(opts.masters ?? 3)
    .withReplicasPerMaster(opts.replicas ?? 1)
    .withNodeTimeoutMs(opts.nodeTimeoutMs ?? 2000)
    .start();
  try {
    return await fn(cluster);
  } finally {
    await cluster.stop();
  }
}

/**
 * Closed-loop load: `concurrency` workers each run `op` back to back for
 * `durationMs` (after `warmupMs` not measured). Latency is per operation.
 */
export async function closedLoop(
  concurrency: number,
  durationMs: number,
  op: (worker: number, i: number) => Promise<unknown>,
  warmupMs = Math.min(1000, durationMs / 4),
): Promise<LoopResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let measuring = false;
  let running = true;
  const worker = async (w: number) => {
    let i = 0;
    while (running) {
      const t0 = performance.now();
      try {
        await op(w, i++);
        if (measuring) latencies.push(performance.now() - t0);
      } catch (err) {
        if (measuring) {
          errors++;
          firstError ??= (err as Error).message;
        }
      }
    }
  };
  const workers = Array.from({ length: concurrency }, (_, w) => worker(w));
  await new Promise((r) => setTimeout(r, warmupMs));
  measuring = true;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, durationMs));
  measuring = false;
  const cpu = process.cpuUsage(cpu0);
  const elapsed = performance.now() - start;
  running = false;
  await Promise.all(workers);
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]! : NaN);
  return {
    ops: latencies.length,
    opsPerSec: Math.round((latencies.length / elapsed) * 1000),
    p50Ms: round(pct(0.5)),
    p99Ms: round(pct(0.99)),
    errors,
    cpuUsPerOp: latencies.length ? round((cpu.user + cpu.system) / latencies.length) : NaN,
    ...(firstError ? { firstError } : {}),
  };
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Mean ops/s of interleaved runs (the baseline a `meanOfRuns` row is compared with). */
export function meanOpsPerSec(runs: readonly LoopResult[]): number {
  return mean(runs.map((r) => r.opsPerSec));
}

/**
 * One row from interleaved runs of the same client: their mean, every run's
 * rate listed under "runs", and, with `vs`, the change against a baseline's
 * mean ops/s (e.g. `{ label: 'vs before', baseOpsPerSec }`).
 */
export function meanOfRuns(
  client: string,
  scenario: string,
  runs: readonly LoopResult[],
  vs?: { readonly label: string; readonly baseOpsPerSec: number },
): Measurement {
  const ops = meanOpsPerSec(runs);
  return {
    client,
    scenario,
    ops: runs.reduce((a, r) => a + r.ops, 0),
    opsPerSec: Math.round(ops),
    p50Ms: round(mean(runs.map((r) => r.p50Ms))),
    p99Ms: round(mean(runs.map((r) => r.p99Ms))),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    extra: {
      'CPU µs/op': round(mean(runs.map((r) => r.cpuUsPerOp))),
      ...(vs ? { [vs.label]: `${round(((ops - vs.baseOpsPerSec) / vs.baseOpsPerSec) * 100, 1)} %` } : {}),
      runs: runs.map((r) => r.opsPerSec).join(' / '),
    },
  };
}

/**
 * Adds the ratios the performance goal is stated in to each row of one
 * scenario: ops/s as a share of the bare-socket ceiling row and as a
 * multiple of a reference client (ioredis Cluster + autopipelining).
 */
export function withRatios(rows: readonly Measurement[], ceiling: string, reference: string): Measurement[] {
  const ceil = rows.find((m) => m.client === ceiling)?.opsPerSec;
  const ref = rows.find((m) => m.client === reference)?.opsPerSec;
  return rows.map((m) => ({
    ...m,
    extra: {
      ...m.extra,
      ...(ceil ? { 'of ceiling': `${round((m.opsPerSec / ceil) * 100, 1)} %` } : {}),
      ...(ref ? { 'vs ioredis+AP': `${round(m.opsPerSec / ref, 2)}×` } : {}),
    },
  }));
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Facts about the machine and run, stored next to every result. */
export function environment(): Record<string, string | number> {
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()}`,
  };
}

export interface Report {
  /** File stem in docs/benchmarks/. */
  readonly name: string;
  readonly title: string;
  /** The exact command that produced it. */
  readonly command: string;
  readonly setup: string;
  readonly measurements: readonly Measurement[];
  /** Extra Markdown after the table (observations, caveats). */
  readonly notes?: string;
  /** Which metric the chart shows. @default 'opsPerSec' */
  readonly chartMetric?: 'opsPerSec' | 'p99Ms' | 'errors';
}

/** Writes `<name>.json`, `<name>.md` and `<name>.svg` into docs/benchmarks/. */
export function writeReport(r: Report): void {
  mkdirSync(REPORT_DIR, { recursive: true });
  const env = environment();
  writeFileSync(join(REPORT_DIR, `${r.name}.json`), `${JSON.stringify({ ...r, environment: env }, null, 2)}\n`);
  const extras = [...new Set(r.measurements.flatMap((m) => Object.keys(m.extra ?? {})))];
  const header = ['scenario', 'client', 'ops/s', 'p50 ms', 'p99 ms', 'errors', ...extras];
  const rows = r.measurements.map((m) => [
    m.scenario, m.client, cell(m.opsPerSec), cell(m.p50Ms), cell(m.p99Ms), cell(m.errors),
    ...extras.map((k) => String(m.extra?.[k] ?? '')),
  ]);
  const md = [
    `# ${r.title}`,
    '',
    `Produced by \`${r.command}\` on ${env.date} (Node ${env.node}, ${env.cpus} × ${env.cpuModel}, ${env.memoryGiB} GiB).`,
    '',
    r.setup,
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
    `![chart](${r.name}.svg)`,
    '',
    r.notes ?? '',
    '',
  ].join('\n');
  writeFileSync(join(REPORT_DIR, `${r.name}.md`), md);
  writeFileSync(join(REPORT_DIR, `${r.name}.svg`), barChart(r.measurements, r.chartMetric ?? 'opsPerSec', r.title));
}

/** Fault rows have no steady-state rate or median: show a dash, not "NaN". */
function cell(n: number): string {
  return Number.isFinite(n) ? String(n) : '—';
}

/** A dependency-free horizontal bar chart, one bar per measurement that has the metric. */
export function barChart(ms: readonly Measurement[], metric: 'opsPerSec' | 'p99Ms' | 'errors', title: string): string {
  const barH = 18;
  const gap = 6;
  const labelW = 360;
  const chartW = 420;
  ms = ms.filter((m) => Number.isFinite(m[metric]));
  const max = Math.max(1, ...ms.map((m) => m[metric]));
  const h = 40 + ms.length * (barH + gap);
  const colors = ['#3b82f6', '#ef4444', '#f59e0b', '#10b981', '#8b5cf6', '#6b7280'];
  const clients = [...new Set(ms.map((m) => m.client))];
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const bars = ms.map((m, i) => {
    const y = 30 + i * (barH + gap);
    const w = Math.max(1, (m[metric] / max) * chartW);
    const color = colors[clients.indexOf(m.client) % colors.length];
    return `<text x="${labelW - 6}" y="${y + 13}" text-anchor="end" font-size="11">${esc(`${m.scenario} · ${m.client}`)}</text>` +
      `<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${color}"/>` +
      `<text x="${labelW + w + 4}" y="${y + 13}" font-size="11">${m[metric]}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + chartW + 80}" height="${h}" font-family="sans-serif">` +
    `<text x="10" y="18" font-size="13" font-weight="bold">${esc(title)} — ${metric}</text>${bars.join('')}</svg>\n`;
}
