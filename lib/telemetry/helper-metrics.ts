import type { Attributes, BatchObservableCallback, Counter, Histogram, Meter, MeterProvider, ObservableGauge } from '@opentelemetry/api';
import { ATTR, errorType, isNoopMeter, loadOtelApi, SCOPE } from './otel.js';

/** Histogram buckets in seconds: helpers wait and work far longer than a command. */
const WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60];

/** Attribute names of the helper instruments (OTel messaging conventions where one fits). */
export const HELPER_ATTR = {
  lockKind: 'slotwise.lock.kind',
  lockOutcome: 'slotwise.lock.outcome',
  destination: 'messaging.destination.name',
  messagingSystem: 'messaging.system',
  messagingOperation: 'messaging.operation.name',
  partition: 'messaging.destination.partition.id',
  jobOutcome: 'slotwise.job.outcome',
  jobState: 'slotwise.job.state',
  sessionOperation: 'slotwise.session.operation',
} as const;

/** How a job's delivery ended, as the queue announces it. */
export type JobOutcome = 'completed' | 'duplicate' | 'failed' | 'dead';

/** Per-partition job counts a queue reports at collection time. */
export interface QueueDepth {
  readonly waiting: number;
  readonly delayed: number;
  readonly inFlight: number;
  readonly dead: number;
}

/**
 * The helpers' instruments (locks, queues, sessions) on the global meter
 * provider. One set per provider, shared by every helper of the process;
 * attribute values never carry key names, payloads or session ids.
 */
export class HelperMetrics {
  readonly #meter: Meter;
  readonly #lockWait: Histogram;
  readonly #lockGrants: Counter;
  readonly #process: Histogram;
  readonly #lag: Histogram;
  readonly #jobs: Counter;
  readonly #sessionOps: Histogram;
  readonly #depth: ObservableGauge;
  /** Cached attribute sets: a job or lock costs no allocation for them. */
  readonly #attrs = new Map<string, Attributes>();

  constructor(meter: Meter) {
    this.#meter = meter;
    const advice = { explicitBucketBoundaries: WAIT_BUCKETS };
    this.#lockWait = meter.createHistogram('slotwise.lock.wait.duration', {
      description: 'Time from asking for a lock to being granted it, or to giving up.', unit: 's', advice,
    });
    this.#lockGrants = meter.createCounter('slotwise.lock.grants', { description: 'Locks granted.', unit: '{grant}' });
    this.#process = meter.createHistogram('messaging.process.duration', {
      description: 'Duration of a job handler run, to its acknowledgement or failure.', unit: 's', advice,
    });
    this.#lag = meter.createHistogram('slotwise.queue.lag', {
      description: 'Time from a job becoming ready (added, or due after a delay or retry) to a worker starting it.', unit: 's', advice,
    });
    this.#jobs = meter.createCounter('slotwise.queue.jobs', { description: 'Job deliveries by how they ended.', unit: '{job}' });
    this.#sessionOps = meter.createHistogram('slotwise.session.operation.duration', {
      description: 'Duration of session store operations.', unit: 's', advice,
    });
    this.#depth = meter.createObservableGauge('slotwise.queue.depth', { description: 'Jobs per queue partition and state, read at collection time.', unit: '{job}' });
  }

  /** A lock wait ended: granted (`error` undefined) or given up. */
  lockWait(kind: string, seconds: number, error?: unknown): void {
    const granted = error === undefined;
    this.#lockWait.record(seconds, granted ? this.#cached(`l\0${kind}`, () => ({ [HELPER_ATTR.lockKind]: kind, [HELPER_ATTR.lockOutcome]: 'granted' }))
      : { [HELPER_ATTR.lockKind]: kind, [HELPER_ATTR.lockOutcome]: 'failed', [ATTR.errorType]: errorType(error) });
    if (granted) this.#lockGrants.add(1, this.#cached(`g\0${kind}`, () => ({ [HELPER_ATTR.lockKind]: kind })));
  }

  /**
   * A delivery ended: `lagSeconds` from ready to start, `processSeconds`
   * from start to the outcome; `error` for failed and dead deliveries.
   */
  job(queue: string, partition: number, outcome: JobOutcome, lagSeconds: number, processSeconds: number, error?: unknown): void {
    const base = this.#cached(`q\0${queue}\0${partition}`, () => ({
      [HELPER_ATTR.messagingSystem]: 'slotwise', [HELPER_ATTR.destination]: queue, [HELPER_ATTR.partition]: String(partition),
    }));
    this.#lag.record(Math.max(0, lagSeconds), base);
    this.#process.record(processSeconds, error === undefined
      ? this.#cached(`p\0${queue}\0${partition}`, () => ({ ...base, [HELPER_ATTR.messagingOperation]: 'process' }))
      : { ...base, [HELPER_ATTR.messagingOperation]: 'process', [ATTR.errorType]: errorType(error) });
    this.#jobs.add(1, this.#cached(`j\0${queue}\0${partition}\0${outcome}`, () => ({ ...base, [HELPER_ATTR.jobOutcome]: outcome })));
  }

  /** A session store operation (`get`, `set`, `touch`, `destroy`, …) finished. */
  session(operation: string, seconds: number, error?: unknown): void {
    this.#sessionOps.record(seconds, error === undefined
      ? this.#cached(`s\0${operation}`, () => ({ [HELPER_ATTR.sessionOperation]: operation }))
      : { [HELPER_ATTR.sessionOperation]: operation, [ATTR.errorType]: errorType(error) });
  }

  /**
   * Reports a queue's depth per partition and state at each collection
   * (`read` runs then, never per job). Returns the function that stops it.
   */
  observeQueue(queue: string, read: () => Promise<readonly QueueDepth[]>): () => void {
    const callback: BatchObservableCallback = async (result) => {
      let parts: readonly QueueDepth[];
      try {
        parts = await read();
      } catch {
        return; // A collection during an outage reports nothing rather than zeros.
      }
      parts.forEach((p, i) => {
        const base = { [HELPER_ATTR.messagingSystem]: 'slotwise', [HELPER_ATTR.destination]: queue, [HELPER_ATTR.partition]: String(i) };
        for (const state of ['waiting', 'delayed', 'inFlight', 'dead'] as const) {
          result.observe(this.#depth, p[state], { ...base, [HELPER_ATTR.jobState]: state });
        }
      });
    };
    this.#meter.addBatchObservableCallback(callback, [this.#depth]);
    return () => this.#meter.removeBatchObservableCallback(callback, [this.#depth]);
  }

  #cached(key: string, make: () => Attributes): Attributes {
    let a = this.#attrs.get(key);
    if (a === undefined) this.#attrs.set(key, (a = make()));
    return a;
  }
}

/** Per meter provider: its helper instruments, or null for the no-op provider. */
const byProvider = new WeakMap<MeterProvider, HelperMetrics | null>();

/**
 * The helpers' instruments when `enabled` (the client's `telemetry.metrics`),
 * `@opentelemetry/api` is installed and an SDK registered a meter provider;
 * otherwise undefined. Looked up per helper operation: a provider registered
 * after the helper was made is still found.
 */
export function helperMetrics(enabled: boolean): HelperMetrics | undefined {
  if (!enabled) return undefined;
  const api = loadOtelApi();
  if (api === undefined) return undefined;
  const provider = api.metrics.getMeterProvider();
  let m = byProvider.get(provider);
  if (m === undefined) byProvider.set(provider, (m = isNoopMeter(api) ? null : new HelperMetrics(api.metrics.getMeter(SCOPE))));
  return m ?? undefined;
}
