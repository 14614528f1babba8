import { performance } from 'node:perf_hooks';
import type { ClusterClient } from '../cluster-client.js';
import { helperMetrics } from '../telemetry/helper-metrics.js';

/**
 * The store's operations as `slotwise.session.operation.duration` names
 * them. The express-session adapter's reads and writes go through the
 * symbol-keyed methods, so they are counted as `get` and `set` too.
 */
export type SessionOperationNames = ReadonlyMap<PropertyKey, string>;

/**
 * Wraps the named async methods of `proto` so each call records its
 * duration (and `error.type` on failure) when the store's client has
 * metrics on and an SDK is registered; otherwise a call costs one lookup.
 */
export function instrumentSessionOperations<S extends object>(proto: S, names: SessionOperationNames, clientOf: (store: S) => ClusterClient): void {
  const methods = proto as Record<PropertyKey, unknown>;
  for (const [method, operation] of names) {
    const original = methods[method] as (this: S, ...args: unknown[]) => Promise<unknown>;
    methods[method] = function (this: S, ...args: unknown[]): Promise<unknown> {
      const metrics = helperMetrics(clientOf(this).options.telemetry.metrics);
      if (metrics === undefined) return original.apply(this, args);
      const started = performance.now();
      let p: Promise<unknown>;
      try {
        p = original.apply(this, args);
      } catch (err) {
        metrics.session(operation, (performance.now() - started) / 1000, err);
        throw err;
      }
      return p.then((v) => {
        metrics.session(operation, (performance.now() - started) / 1000);
        return v;
      }, (err: unknown) => {
        metrics.session(operation, (performance.now() - started) / 1000, err);
        throw err;
      });
    };
  }
}
