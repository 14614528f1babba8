import { performance } from 'node:perf_hooks';
import type { ClusterClient } from '../cluster-client.js';
import { helperMetrics } from '../telemetry/helper-metrics.js';
import { helperSpan } from '../telemetry/helper-spans.js';

/**
 * The store's operations as telemetry names them. The express-session
 * adapter's reads and writes go through the symbol-keyed methods, so they
 * are counted as `get` and `set` too.
 */
export type SessionOperationNames = ReadonlyMap<PropertyKey, string>;

/**
 * Wraps the named async methods of `proto` so each call is a `session <op>`
 * INTERNAL span (its commands are its children) and records
 * `slotwise.session.operation.duration` (`error.type` on failure), each when
 * the store's client has that signal on and an SDK is registered; otherwise
 * a call costs two lookups. Neither carries a session id or data.
 */
export function instrumentSessionOperations<S extends object>(proto: S, names: SessionOperationNames, clientOf: (store: S) => ClusterClient): void {
  const methods = proto as Record<PropertyKey, unknown>;
  for (const [method, operation] of names) {
    const original = methods[method] as (this: S, ...args: unknown[]) => Promise<unknown>;
    const spanName = `session ${operation}`;
    methods[method] = function (this: S, ...args: unknown[]): Promise<unknown> {
      const telemetry = clientOf(this).options.telemetry;
      const metrics = helperMetrics(telemetry.metrics);
      const span = helperSpan(telemetry.tracing, spanName, { 'slotwise.session.operation': operation });
      if (metrics === undefined && span === undefined) return original.apply(this, args);
      const started = performance.now();
      const done = (err?: unknown) => {
        metrics?.session(operation, (performance.now() - started) / 1000, err);
        span?.end(err);
      };
      let p: Promise<unknown>;
      try {
        p = span === undefined ? original.apply(this, args) : span.within(() => original.apply(this, args));
      } catch (err) {
        done(err);
        throw err;
      }
      return p.then((v) => {
        done();
        return v;
      }, (err: unknown) => {
        done(err);
        throw err;
      });
    };
  }
}
