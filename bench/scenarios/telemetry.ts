/**
 * Telemetry cost: slotwise router throughput (mixed GET/SET, 100-byte values,
 * 256 in flight) in ONE run on ONE fresh 3×1 cluster, with
 * - no OpenTelemetry SDK registered (the API installed, as in most apps),
 * - tracing on: an SDK tracer provider with the always-on sampler and a
 *   batch span processor (spans exported to a counting sink),
 * - metrics on: an SDK meter provider (periodic reader, counting sink),
 * interleaved rounds, alternating order. The "no SDK vs today" check is
 * `npm run bench:compare -- <rev>` (same loop, before/after revision).
 * Writes docs/benchmarks/telemetry.{json,md,svg}.
 */
import { metrics, trace } from '@opentelemetry/api';
import { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ClusterClient } from '../../lib/index.js';
import { resolveOptions } from '../../lib/options.js';
import { Telemetry } from '../../lib/telemetry/telemetry.js';
import { closedLoop, meanOfRuns, meanOpsPerSec, withBenchCluster, writeReport, type LoopResult, type Measurement } from '../harness.js';

const KEYS = 10_000;
const VALUE = 'x'.repeat(100);
const CONCURRENCY = 256;
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);

let exportedSpans = 0;
const spanSink: SpanExporter = {
  export(spans, done) {
    exportedSpans += spans.length;
    done({ code: 0 });
  },
  shutdown: () => Promise.resolve(),
};
let metricExports = 0;
const metricSink: PushMetricExporter = {
  export(_m, done) {
    metricExports++;
    done({ code: 0 });
  },
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
  selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
};

interface Variant {
  readonly name: string;
  /** Registers the SDK part (before the client connects); returns its teardown. */
  install(): () => Promise<void>;
}

const VARIANTS: Variant[] = [
  { name: 'no SDK registered', install: () => () => Promise.resolve() },
  {
    name: 'tracing on (always-on sampler)',
    install: () => {
      const provider = new BasicTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: [new BatchSpanProcessor(spanSink, { maxQueueSize: 65_536 })] });
      trace.setGlobalTracerProvider(provider);
      return async () => {
        await provider.shutdown();
        trace.disable();
      };
    },
  },
  {
    name: 'metrics on',
    install: () => {
      const provider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: metricSink, exportIntervalMillis: 1000 })] });
      metrics.setGlobalMeterProvider(provider);
      return async () => {
        await provider.shutdown();
        metrics.disable();
      };
    },
  },
];

/**
 * Client CPU of the per-command telemetry check with no SDK registered and no
 * channel subscriber — what every command pays for telemetry being there (one
 * observe() per command; the executor's `req.traced` branches are false).
 * Timed in isolation over many calls, so machine noise that swamps a ±2 %
 * throughput comparison does not hide it.
 */
function noSdkCheckNs(): number {
  const t = new Telemetry({
    options: resolveOptions({ rootNodes: ['127.0.0.1:1'] }),
    pending: () => 0, failed: () => 0, nodes: () => [], version: () => undefined,
  });
  t.attach();
  const N = 20_000_000;
  let traced = 0;
  for (let i = 0; i < 1_000_000; i++) if (t.observe()) traced++;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) if (t.observe()) traced++;
  const ns = Number(process.hrtime.bigint() - t0) / N;
  if (traced !== 0) throw new Error('observe() answered true without an SDK or subscriber');
  return Math.round(ns * 100) / 100;
}

export async function run(): Promise<void> {
  const measurements: Measurement[] = [];
  let checkNs = 0;
  let noSdkCpuUs = 0;
  await withBenchCluster({ masters: 3, replicas: 1 }, async (cluster) => {
    const roots = cluster.getRootNodes();
    const seed = new ClusterClient({ rootNodes: roots });
    for (let i = 0; i < KEYS; i += 500) await Promise.all(Array.from({ length: 500 }, (_, j) => seed.set(`bench:${i + j}`, VALUE)));
    await seed.quit();
    const runs = new Map<string, LoopResult[]>();
    for (let r = 0; r < ROUNDS; r++) {
      for (const v of r % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) {
        const uninstall = v.install();
        const c = new ClusterClient({ rootNodes: roots, commandTimeoutMs: 10_000 });
        await c.connect();
        const res = await closedLoop(CONCURRENCY, DURATION_MS, (w, i) => {
          const k = `bench:${(w * 7919 + i) % KEYS}`;
          return i % 2 === 0 ? c.set(k, VALUE) : c.get(k);
        });
        await c.quit();
        await uninstall();
        runs.set(v.name, [...(runs.get(v.name) ?? []), res]);
        console.log(`  C=${CONCURRENCY} ${v.name}: ${res.opsPerSec} ops/s, ${res.cpuUsPerOp} µs CPU/op, p99 ${res.p99Ms} ms, errors ${res.errors}`);
      }
    }
    const baseOpsPerSec = meanOpsPerSec(runs.get(VARIANTS[0]!.name)!);
    for (const v of VARIANTS) {
      measurements.push(meanOfRuns(`slotwise, ${v.name}`, `GET/SET C=${CONCURRENCY}`, runs.get(v.name)!, { label: 'vs no SDK', baseOpsPerSec }));
    }
    console.log(`  spans exported: ${exportedSpans}, metric exports: ${metricExports}`);
    checkNs = noSdkCheckNs();
    noSdkCpuUs = measurements[0]!.extra?.['CPU µs/op'] as number;
    console.log(`  no-SDK telemetry check: ${checkNs} ns per command (${((100 * checkNs) / 1000 / noSdkCpuUs).toFixed(2)} % of ${noSdkCpuUs} µs CPU/op)`);
  });
  writeReport({
    name: 'telemetry',
    title: 'slotwise telemetry cost: no SDK vs tracing on vs metrics on, same run',
    command: 'npm run bench -- telemetry',
    setup:
      `One fresh cluster of 3 masters × 1 replica. Closed loop at ${CONCURRENCY} in flight, 50/50 GET/SET over ${KEYS} keys, 100-byte values; ` +
      `${DURATION_MS} ms measured per run after a warm-up; ${ROUNDS} interleaved runs per variant (order alternates), rows are their mean. ` +
      'Tracing: BasicTracerProvider, AlwaysOnSampler, BatchSpanProcessor to a counting exporter. Metrics: MeterProvider, periodic reader (1 s) to a counting exporter.',
    measurements,
    notes:
      `With no SDK registered, what telemetry costs each command is one observe() check: ${checkNs} ns, timed alone over 20,000,000 calls — ` +
      `${((100 * checkNs) / 1000 / noSdkCpuUs).toFixed(2)} % of the ${noSdkCpuUs} µs of client CPU a command costs in the no-SDK rows. ` +
      'Spans and metric records are built only when observe() answers true (an SDK, or a diagnostics_channel subscriber).',
  });
}
