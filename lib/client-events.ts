import diagnostics from 'node:diagnostics_channel';
import type { EventEmitter } from 'node:events';
import type { BreakerState } from './node/breaker.js';
import type { NodeRole } from './node/node-handle.js';
import type { CommandDiagnostics, RedirectInfo } from './router/request.js';
import type { MigrationClearedInfo, MigrationStuckInfo } from './router/migration-watch.js';
import type { TopologySnapshot } from './topology/snapshot.js';

/** Events of a ClusterClient (`client.on(name, listener)`). */
export interface ClusterClientEvents {
  /** A new topology snapshot replaced the previous one. */
  topology: [snapshot: TopologySnapshot, previous: TopologySnapshot | undefined, reason: string];
  /** A node appeared in the map. */
  'node:added': [info: {
    /** `host:port` of the node. */
    address: string;
    /** Its role in the new map. */
    role: NodeRole;
  }];
  /** A node left the map; its connection was closed. */
  'node:removed': [info: {
    /** `host:port` of the node. */
    address: string;
  }];
  /** A command followed a MOVED or ASK. */
  redirect: [info: RedirectInfo];
  /**
   * A slot's redirects started going round in a circle (A: `ASK B`, B:
   * `MOVED A`): its migration lost a side, e.g. a failover mid-reshard.
   * Commands on it wait (bounded by their deadline) instead of spinning.
   * Once per episode; `migration:cleared` ends it.
   */
  'migration:stuck': [info: MigrationStuckInfo];
  /** A slot reported by `migration:stuck` answered a command again. */
  'migration:cleared': [info: MigrationClearedInfo];
  /** A node's circuit breaker changed state. */
  breaker: [info: {
    /** `host:port` of the node. */
    address: string;
    /** The breaker's new state. */
    state: BreakerState;
  }];
  /**
   * A configuration source (the `config` option) changed live options;
   * lists the ones whose value changed, e.g. `['readFrom']`.
   */
  config: [changed: readonly string[]];
  /**
   * A background problem nobody awaits (a failed periodic refresh). Emitted
   * only while someone listens, so an unlistened client never crashes.
   */
  error: [error: Error];
}

/** Internal: the client's emitter as pub/sub sees it: it follows `topology`. */
export type TopologyEvents = Pick<EventEmitter<ClusterClientEvents>, 'on' | 'off'>;

/** A finished topology refresh (the `slotwise:topology` diagnostics channel). */
export interface RefreshDiagnostics {
  /** Why the refresh ran, e.g. `connect`, `moved`, `periodic`, `unreachable`. */
  readonly reason: string;
  /** Wall time of the refresh. */
  readonly durationMs: number;
  /** How many nodes were asked for their view of the cluster. */
  readonly asked: number;
  /** How many answers agreed with the view that was chosen. */
  readonly votes: number;
  /** How many answers disagreed with it. */
  readonly dissent: number;
  /** Whether the chosen view differs from the previous snapshot. */
  readonly changed: boolean;
  /** Why the refresh failed, when it did (the previous snapshot stays). */
  readonly error?: Error;
}

/**
 * `node:diagnostics_channel` channels, so tracing needs no monkey-patching:
 * `slotwise:command` receives a CommandDiagnostics per settled command,
 * `slotwise:topology` a RefreshDiagnostics per refresh.
 */
export const channels = {
  /** `slotwise:command`: one CommandDiagnostics per settled command. */
  command: diagnostics.channel('slotwise:command'),
  /** `slotwise:topology`: one RefreshDiagnostics per topology refresh. */
  topology: diagnostics.channel('slotwise:topology'),
} as const;

export type { CommandDiagnostics, MigrationClearedInfo, MigrationStuckInfo, RedirectInfo };
