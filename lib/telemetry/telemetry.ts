import { AsyncResource } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import type { Span } from '@opentelemetry/api';
import { channels, type RefreshDiagnostics } from '../client-events.js';
import type { BreakerState } from '../node/breaker.js';
import type { NodeHandle } from '../node/node-handle.js';
import type { TelemetryOptions } from '../options.js';
import type { CommandObserver } from '../router/observer.js';
import type { RedirectInfo, Request } from '../router/request.js';
import { observed, traceSettle, traceStart, traceStartScoped, tracingChannels, type BatchTraceContext, type CommandTraceContext, type RefreshTraceContext } from './channels.js';
import { ATTR, isNoopMeter, loadOtelApi } from './otel.js';
import { OtelMetrics } from './otel-metrics.js';
import { OtelTracing } from './otel-tracing.js';
import { StatsCounters, type ClientStats } from './stats.js';

/** What telemetry reads from the client core. */
export interface TelemetrySource {
  readonly options: { readonly telemetry: Readonly<Required<TelemetryOptions>> };
  pending(): number;
  failed(): number;
  /** Handles of every node of the current map. */
  nodes(): readonly NodeHandle[];
  /** Version of the current map. */
  version(): number | undefined;
}

const BASE_ATTRS = { [ATTR.system]: 'redis', [ATTR.namespace]: '0' } as const;

// Read once per command: the plain channel, and the command TracingChannel's
// `start` (TracingChannel.subscribe() subscribes all five events at once).
const LEGACY = channels.command;
const COMMAND_START = tracingChannels.command.start;

/** Per-command telemetry state, kept on the Request. */
class CommandTrace {
  /** The async scope of the TracingChannel `start` (settle events run in it). */
  scope: AsyncResource | undefined;
  constructor(readonly ctx: CommandTraceContext | undefined, readonly span: Span | undefined) {}
}

/** A command's settle records: the plain channel's, then the TracingChannel's error/asyncStart/asyncEnd. */
function publishSettled(req: Request, trace: CommandTrace | undefined, error: Error | undefined): void {
  if (LEGACY.hasSubscribers) LEGACY.publish(req.diagnostics(error));
  const ctx = trace?.ctx;
  if (ctx === undefined) return;
  ctx.address = req.node?.address;
  ctx.attempts = req.attempts;
  ctx.redirections = req.redirections;
  traceSettle(tracingChannels.command, ctx, error);
}

/**
 * The client's telemetry (internal): TracingChannel events, OpenTelemetry
 * spans and metrics, and the counters of `client.stats()`. OpenTelemetry is
 * looked up at `attach()` (connect); until then, and for good when the API
 * is not installed or no SDK is registered, a command costs one check.
 */
export class Telemetry implements CommandObserver {
  readonly #source: TelemetrySource;
  readonly #counters = new StatsCounters();
  #tracing: OtelTracing | undefined;
  #metrics: OtelMetrics | undefined;

  constructor(source: TelemetrySource) {
    this.#source = source;
  }

  /** Loads `@opentelemetry/api` (when installed and enabled) and takes the tracer and meter. */
  attach(): void {
    const o = this.#source.options.telemetry;
    if (this.#tracing !== undefined || this.#metrics !== undefined || (!o.tracing && !o.metrics)) return;
    const api = loadOtelApi();
    if (api === undefined) return;
    if (o.tracing) this.#tracing = new OtelTracing(api);
    if (o.metrics && !isNoopMeter(api)) this.#metrics = new OtelMetrics(api, () => this.stats());
  }

  /** Releases the metric callbacks (the client closed). */
  detach(): void {
    this.#metrics?.close();
    this.#metrics = undefined;
  }

  // ---- CommandObserver (the executor's hooks) ----

  observe(): boolean {
    if (LEGACY.hasSubscribers || COMMAND_START.hasSubscribers || this.#metrics !== undefined) return true;
    const tracing = this.#tracing;
    return tracing !== undefined && tracing.active;
  }

  start(req: Request, begin: () => void): void {
    // A pipeline's entries are covered by the batch's span and channel events.
    if (req.seq !== undefined) {
      begin();
      return;
    }
    const span = this.#tracing?.active ? this.#tracing.start(req.command, { ...BASE_ATTRS, [ATTR.operation]: req.command }) : undefined;
    if (observed(tracingChannels.command)) {
      const ctx: CommandTraceContext = { command: req.command, slot: req.slot, address: undefined, attempts: 0, redirections: 0 };
      const trace = new CommandTrace(ctx, span);
      req.trace = trace;
      trace.scope = traceStartScoped(tracingChannels.command, ctx, begin);
      return;
    }
    // Replies are dispatched from the connection's data event: a subscriber
    // of the plain channel gets the record in the caller's async context
    // (its AsyncLocalStorage stores), as it did when replies came through
    // promise reactions.
    if (span !== undefined || LEGACY.hasSubscribers) {
      const trace = new CommandTrace(undefined, span);
      if (LEGACY.hasSubscribers) trace.scope = new AsyncResource('slotwise:command');
      req.trace = trace;
    }
    begin();
  }

  redirect(req: Request, info: RedirectInfo): void {
    if (info.kind === 'moved') this.#counters.moved++;
    else this.#counters.ask++;
    this.#metrics?.redirect(info.kind);
    const span = (req.trace as CommandTrace | undefined)?.span;
    span?.addEvent(info.kind === 'moved' ? 'redis.moved' : 'redis.ask', {
      'slotwise.slot': info.slot, 'slotwise.redirect.from': info.from, 'slotwise.redirect.to': info.to,
    });
  }

  wait(req: Request, reason: string): void {
    this.#counters.waits++;
    this.#metrics?.wait(reason);
    const span = (req.trace as CommandTrace | undefined)?.span;
    span?.addEvent('slotwise.wait', { 'slotwise.wait.reason': reason, 'slotwise.attempt': req.attempts });
  }

  settled(req: Request, error: Error | undefined): void {
    const trace = req.trace as CommandTrace | undefined;
    // The reply arrived in the connection's context: publish in the caller's.
    if (trace?.scope !== undefined) trace.scope.runInAsyncScope(publishSettled, undefined, req, trace, error);
    else publishSettled(req, trace, error);
    const node = req.node;
    if (trace !== undefined) {
      req.trace = undefined;
      if (trace.span !== undefined) {
        this.#tracing!.end(trace.span, node, error, req.attempts > 1 ? { 'slotwise.attempts': req.attempts, 'slotwise.redirections': req.redirections } : undefined);
      }
    }
    if (this.#metrics !== undefined && req.seq === undefined) {
      this.#metrics.operation(req.command, node?.address, node?.host, node?.port, (performance.now() - req.startedAt) / 1000, error);
    }
  }

  // ---- batches, refreshes, breakers ----

  /** Runs a pipeline's or transaction's `exec()` as one traced operation. */
  batch<T>(kind: 'pipeline' | 'transaction', size: number, run: () => Promise<T>): Promise<T> {
    const channel = observed(tracingChannels.batch);
    const tracing = this.#tracing?.active ? this.#tracing : undefined;
    const metrics = this.#metrics;
    if (!channel && tracing === undefined && metrics === undefined) return run();
    const name = kind === 'pipeline' ? 'PIPELINE' : 'MULTI';
    const started = performance.now();
    const span = tracing?.start(name, { ...BASE_ATTRS, [ATTR.operation]: name, [ATTR.batchSize]: size });
    const ctx: BatchTraceContext = { kind, size };
    let promise!: Promise<T>;
    if (channel) traceStart(tracingChannels.batch, ctx, () => (promise = run()));
    else promise = run();
    const done = (error: unknown) => {
      if (span !== undefined) tracing!.end(span, undefined, error);
      if (channel) traceSettle(tracingChannels.batch, ctx, error);
      metrics?.operation(name, undefined, undefined, undefined, (performance.now() - started) / 1000, error);
    };
    promise.then(() => done(undefined), done);
    return promise;
  }

  /** Runs one topology refresh inside the `slotwise:refresh` TracingChannel events. */
  refresh<T>(reason: string, run: () => Promise<T>): Promise<T> {
    if (!observed(tracingChannels.refresh)) return run();
    const ctx: RefreshTraceContext = { reason };
    let promise!: Promise<T>;
    traceStart(tracingChannels.refresh, ctx, () => (promise = run()));
    promise.then(() => traceSettle(tracingChannels.refresh, ctx, undefined), (err: unknown) => traceSettle(tracingChannels.refresh, ctx, err));
    return promise;
  }

  /** A refresh finished (counters and metrics). */
  refreshed(info: RefreshDiagnostics): void {
    const c = this.#counters;
    c.refreshes++;
    if (info.error !== undefined) c.failedRefreshes++;
    c.lastRefreshMs = info.durationMs;
    this.#metrics?.refresh(info.reason, info.durationMs / 1000, info.error !== undefined);
  }

  /** A node's breaker changed state. */
  breaker(address: string, state: BreakerState): void {
    this.#counters.breakerTransitions++;
    this.#metrics?.breaker(address, state);
  }

  /** W3C trace context of the caller's active span (for a queue job), or undefined. */
  traceContext(): Record<string, string> | undefined {
    return this.#tracing?.active ? this.#tracing.inject() : undefined;
  }

  stats(): ClientStats {
    const s = this.#source;
    const c = this.#counters;
    const nodes = s.nodes().map((n) => ({ ...n.stats, pool: n.poolStats }));
    return {
      inFlight: s.pending(),
      failed: s.failed(),
      commands: nodes.reduce((sum, n) => sum + n.commands, 0),
      redirects: { moved: c.moved, ask: c.ask },
      waits: c.waits,
      breakerTransitions: c.breakerTransitions,
      topology: { refreshes: c.refreshes, failedRefreshes: c.failedRefreshes, lastRefreshMs: c.lastRefreshMs, version: s.version() },
      nodes,
    };
  }
}
