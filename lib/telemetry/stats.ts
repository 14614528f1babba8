import type { NodeStats } from '../node/node-handle.js';
import type { PoolStats } from '../node/pool.js';

/** One node in `client.stats()`: its live counters, plus its dedicated pool once one was used. */
export interface NodeStatsEntry extends NodeStats {
  /** The pool of dedicated connections (blocking commands, transactions); undefined until first used. */
  readonly pool: PoolStats | undefined;
}

/**
 * `client.stats()`: the numbers the OpenTelemetry metrics report, as a
 * plain object (counters since the client was created). Cheap to call:
 * nothing is counted per command that the nodes do not count already.
 */
export interface ClientStats {
  /** Commands accepted and not yet settled. */
  readonly inFlight: number;
  /** Commands that settled with an error. */
  readonly failed: number;
  /** Commands written to the nodes (attempts, retries included): the sum of `nodes[].commands`. */
  readonly commands: number;
  /** Redirects followed. */
  readonly redirects: {
    /** MOVED replies followed. */
    readonly moved: number;
    /** ASK replies followed. */
    readonly ask: number;
  };
  /** Backoff waits before a retry (failover, TRYAGAIN, CLUSTERDOWN, connection loss, open breaker). */
  readonly waits: number;
  /** Circuit breaker state changes, all nodes. */
  readonly breakerTransitions: number;
  /** Topology refreshes and the current map. */
  readonly topology: {
    /** Topology refreshes run (failed ones included). */
    readonly refreshes: number;
    /** Refreshes that found no usable answer. */
    readonly failedRefreshes: number;
    /** Duration of the last refresh in ms (undefined before the first). */
    readonly lastRefreshMs: number | undefined;
    /** Version of the current map (undefined before the first). */
    readonly version: number | undefined;
  };
  /** Every node of the current map. */
  readonly nodes: readonly NodeStatsEntry[];
}

/** The client-level counters behind `client.stats()`; bumped on slow paths only. */
export class StatsCounters {
  moved = 0;
  ask = 0;
  waits = 0;
  breakerTransitions = 0;
  refreshes = 0;
  failedRefreshes = 0;
  lastRefreshMs: number | undefined;
}
