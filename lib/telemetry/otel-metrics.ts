import type { Attributes, BatchObservableCallback, Counter, Histogram, Meter, Observable, ObservableGauge, ObservableUpDownCounter } from '@opentelemetry/api';
import { ATTR, errorType, SCOPE, type OtelApi } from './otel.js';
import type { ClientStats } from './stats.js';

/** Histogram buckets in seconds (the semconv advice for `db.client.operation.duration`). */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

/**
 * The client's instruments on the global meter provider (taken at connect:
 * the metrics API has no proxy, so register the SDK before `connect()`).
 * Durations follow the OTel database conventions; slotwise-specific
 * counters are named `slotwise.client.*`. Gauges are read from
 * `client.stats()` at collection time only.
 */
export class OtelMetrics {
  readonly #duration: Histogram;
  readonly #redirects: Counter;
  readonly #waits: Counter;
  readonly #breaker: Counter;
  readonly #refreshes: Counter;
  readonly #refreshDuration: Histogram;
  readonly #observables: Observable[];
  readonly #meter: Meter;
  readonly #callback: BatchObservableCallback;
  /** Attribute sets per command and node, built once: no allocation per command. */
  readonly #attrs = new Map<string, Map<string, Attributes>>();

  constructor(api: OtelApi, stats: () => ClientStats) {
    const meter = api.metrics.getMeter(SCOPE);
    this.#meter = meter;
    this.#duration = meter.createHistogram('db.client.operation.duration', {
      description: 'Duration of database client operations.',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
    this.#redirects = meter.createCounter('slotwise.client.redirects', { description: 'MOVED and ASK replies followed.', unit: '{redirect}' });
    this.#waits = meter.createCounter('slotwise.client.waits', {
      description: 'Backoff waits of commands (failover, TRYAGAIN, CLUSTERDOWN, lost connection, open breaker) before a retry.',
      unit: '{wait}',
    });
    this.#breaker = meter.createCounter('slotwise.client.breaker.transitions', { description: 'Circuit breaker state changes per node.', unit: '{transition}' });
    this.#refreshes = meter.createCounter('slotwise.client.topology.refreshes', { description: 'Topology refreshes.', unit: '{refresh}' });
    this.#refreshDuration = meter.createHistogram('slotwise.client.topology.refresh.duration', {
      description: 'Duration of topology refreshes.',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
    const inFlight = meter.createObservableUpDownCounter('slotwise.client.commands.in_flight', { description: 'Commands accepted and not yet settled.', unit: '{command}' });
    const connections = meter.createObservableUpDownCounter('db.client.connection.count', { description: 'Dedicated pooled connections per node, by state.', unit: '{connection}' });
    const pending = meter.createObservableUpDownCounter('db.client.connection.pending_requests', { description: 'Waits for a dedicated pooled connection per node.', unit: '{request}' });
    const breakerOpen = meter.createObservableGauge('slotwise.client.breaker.open', { description: '1 while a node\'s circuit breaker is not closed, else 0.', unit: '1' });
    this.#observables = [inFlight, connections, pending, breakerOpen];
    this.#callback = (result) => observeStats(result, stats(), { inFlight, connections, pending, breakerOpen });
    meter.addBatchObservableCallback(this.#callback, this.#observables);
  }

  /** One command (or batch) finished. */
  operation(name: string, address: string | undefined, host: string | undefined, port: number | undefined, seconds: number, error: unknown): void {
    let byNode = this.#attrs.get(name);
    if (byNode === undefined) this.#attrs.set(name, (byNode = new Map()));
    const key = address ?? '';
    let attrs = byNode.get(key);
    if (attrs === undefined) {
      attrs = { [ATTR.system]: 'redis', [ATTR.operation]: name };
      if (host !== undefined) attrs[ATTR.serverAddress] = host;
      if (port !== undefined) attrs[ATTR.serverPort] = port;
      byNode.set(key, attrs);
    }
    this.#duration.record(seconds, error === undefined ? attrs : { ...attrs, [ATTR.errorType]: errorType(error) });
  }

  redirect(kind: 'moved' | 'ask'): void {
    this.#redirects.add(1, { 'slotwise.redirect.kind': kind });
  }

  wait(reason: string): void {
    this.#waits.add(1, { 'slotwise.wait.reason': reason });
  }

  breaker(address: string, state: string): void {
    this.#breaker.add(1, { 'slotwise.node': address, 'slotwise.breaker.state': state });
  }

  refresh(reason: string, seconds: number, failed: boolean): void {
    const attrs = { 'slotwise.refresh.reason': reason, 'slotwise.refresh.outcome': failed ? 'failure' : 'success' };
    this.#refreshes.add(1, attrs);
    this.#refreshDuration.record(seconds, attrs);
  }

  /** Stops the gauges' callback (the client closed). */
  close(): void {
    this.#meter.removeBatchObservableCallback(this.#callback, this.#observables);
  }
}

interface Gauges {
  readonly inFlight: ObservableUpDownCounter;
  readonly connections: ObservableUpDownCounter;
  readonly pending: ObservableUpDownCounter;
  readonly breakerOpen: ObservableGauge;
}

function observeStats(result: Parameters<BatchObservableCallback>[0], s: ClientStats, g: Gauges): void {
  result.observe(g.inFlight, s.inFlight);
  for (const n of s.nodes) {
    result.observe(g.breakerOpen, n.breaker === 'closed' ? 0 : 1, { 'slotwise.node': n.address });
    if (n.pool === undefined) continue;
    const pool = { 'db.client.connection.pool.name': n.address };
    result.observe(g.connections, n.pool.borrowed, { ...pool, 'db.client.connection.state': 'used' });
    result.observe(g.connections, n.pool.available, { ...pool, 'db.client.connection.state': 'idle' });
    result.observe(g.pending, n.pool.pending, pool);
  }
}
