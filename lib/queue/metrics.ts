import type { HelperMetrics } from '../telemetry/helper-metrics.js';
import type { DeliveryOutcome } from './delivery.js';
import type { PartitionKeys } from './keys.js';

/**
 * Records one finished delivery. Lag runs from the ready entry's id (the
 * server's clock when the job was added or became due) to `startedMs` (this
 * process' clock): clock skew between the two shows up in it.
 */
export function recordJob<T>(metrics: HelperMetrics, queue: string, pk: PartitionKeys, entryId: string, startedMs: number, outcome: NonNullable<DeliveryOutcome<T>>): void {
  const readyMs = Number.parseInt(entryId, 10);
  const lag = Number.isFinite(readyMs) ? (startedMs - readyMs) / 1000 : 0;
  const error = outcome.kind === 'failed' || outcome.kind === 'dead' ? outcome.error : undefined;
  metrics.job(queue, pk.index, outcome.kind, lag, (Date.now() - startedMs) / 1000, error);
}
