import { AsyncResource } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';

/**
 * What the `slotwise:command` TracingChannel carries for one command, from
 * `start` (in the caller's async context, before anything is written) to
 * `asyncEnd`. The router fills in `address`, `attempts` and `redirections`
 * as the command runs; `error` is set before `error`/`asyncStart`.
 * Never carries key names, values or arguments.
 */
export interface CommandTraceContext {
  /** The command name, upper case (`GET`). */
  readonly command: string;
  /** The key slot, or -1 for a keyless command. */
  readonly slot: number;
  /** `host:port` of the node of the last attempt (set once it was sent). */
  address: string | undefined;
  /** Attempts made (retries and redirects included), set at settle. */
  attempts: number;
  /** MOVED/ASK redirects followed, set at settle. */
  redirections: number;
  /** The error the caller got (on failure). The reply is never carried: it may hold user data. */
  error?: unknown;
}

/** What the `slotwise:batch` TracingChannel carries for one `pipeline().exec()` or `multi().exec()`. */
export interface BatchTraceContext {
  /** Which batch: `pipeline()` or `multi()`. */
  readonly kind: 'pipeline' | 'transaction';
  /** Commands in the batch. */
  readonly size: number;
  /** Why `exec()` rejected (per-entry errors are in its result, not here). */
  error?: unknown;
}

/** What the `slotwise:refresh` TracingChannel carries for one topology refresh. */
export interface RefreshTraceContext {
  /** Why the map is refreshed (`connect`, `moved`, `periodic`, …). */
  readonly reason: string;
  /** Why the refresh failed (a TopologyError naming every node's error). */
  error?: unknown;
}

/**
 * The `node:diagnostics_channel` TracingChannels of slotwise, so any APM
 * (OpenTelemetry, Datadog, Elastic) can follow a command inside the caller's
 * async context without monkey-patching. Each publishes `start`, `end`,
 * `asyncStart`, `asyncEnd` and (on failure) `error`, e.g.
 * `tracing:slotwise:command:start`. Nothing is published, and nothing is
 * paid, while no one subscribes.
 */
export const tracingChannels = {
  /** One per caller-visible command (a pipeline's entries ride on `batch`). */
  command: diagnostics.tracingChannel<unknown, CommandTraceContext>('slotwise:command'),
  /** One per pipeline or transaction `exec()`. */
  batch: diagnostics.tracingChannel<unknown, BatchTraceContext>('slotwise:batch'),
  /** One per topology refresh. */
  refresh: diagnostics.tracingChannel<unknown, RefreshTraceContext>('slotwise:refresh'),
} as const;

/** True while anyone listens to any event of `tc` (Node 20's typings lack `TracingChannel.hasSubscribers`). */
export function observed(tc: diagnostics.TracingChannel<unknown, object>): boolean {
  return tc.start.hasSubscribers || tc.end.hasSubscribers || tc.asyncStart.hasSubscribers || tc.asyncEnd.hasSubscribers || tc.error.hasSubscribers;
}

/**
 * Publishes the TracingChannel events of an operation that settles later,
 * the way `tracePromise` does, but for a promise the router already holds:
 * `start` runs `begin` inside the subscribers' bound stores, `end` follows
 * at once; `settle` publishes `error` (on failure), `asyncStart` and `asyncEnd`.
 */
export function traceStart<C extends object>(tc: diagnostics.TracingChannel<unknown, C>, ctx: C, begin: () => void): void {
  tc.start.runStores(ctx, begin);
  tc.end.publish(ctx);
}

/**
 * traceStart for an operation settled from a socket callback rather than a
 * promise reaction (a command: its reply is dispatched from the connection's
 * data event). Returns the async scope `start` ran in, with the subscribers'
 * bound stores entered; settle inside it (`scope.runInAsyncScope`) so
 * `asyncStart`/`asyncEnd` see the caller's context, as tracePromise gives.
 */
export function traceStartScoped<C extends object>(tc: diagnostics.TracingChannel<unknown, C>, ctx: C, begin: () => void): AsyncResource {
  let scope: AsyncResource | undefined;
  tc.start.runStores(ctx, () => {
    scope = new AsyncResource('slotwise:command');
    begin();
  });
  tc.end.publish(ctx);
  return scope!;
}

/** The settling half of traceStart. */
export function traceSettle<C extends { error?: unknown }>(tc: diagnostics.TracingChannel<unknown, C>, ctx: C, error: unknown): void {
  if (error !== undefined) {
    ctx.error = error;
    tc.error.publish(ctx);
  }
  tc.asyncStart.publish(ctx);
  tc.asyncEnd.publish(ctx);
}
